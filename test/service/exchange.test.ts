import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { Gateway } from '../../src-main/gateway/gateway';
import { probeTarget } from '../../src-main/links/probe';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { exchangeAt } from '../../src-main/service/exchange';
import { createCommandService } from '../../src-main/service/service';
import { openStore, type Store } from '../../src-main/store/store';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup(protocol: 'astm' | 'hl7') {
  const temp = tempDir();
  const store = openStore({ file: path.join(temp.dir, 'db.sqlite'), durability: 'normal' });
  const gateway = new Gateway({ store });
  const service = createCommandService({
    gateway,
    store,
    probe: (target) => probeTarget(target),
    runtime: 'browser',
    version: '0.0.0-test',
  });
  const port = await freePort();
  gateway.start([instrumentConfigSchema.parse({ id: 'an', protocol, mode: 'server', port })]);
  await waitFor(() => gateway.status('an')?.state === 'listening', 'listening');
  const socket = net.connect(port, '127.0.0.1');
  const replies: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => replies.push(chunk));
  await new Promise((resolve) => socket.once('connect', resolve));
  cleanups.push(async () => {
    socket.destroy();
    service.close();
    await gateway.close(1_000);
    temp.remove();
  });
  const replyBytes = () => Buffer.concat(replies);
  /** Writes, then waits for the gateway's `count`-th reply byte(s). */
  const step = async (bytes: string | Buffer, until: () => boolean) => {
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    await waitFor(until, 'the gateway’s answer');
  };
  return { store, service, socket, step, replyBytes };
}

async function detailsOf(store: Store, service: ReturnType<typeof createCommandService>) {
  const ids = store
    .queryMessages({ instrumentId: 'an', order: 'asc', limit: 10 })
    .items.map((m) => m.id);
  const out = [];
  for (const id of ids) {
    const result = await service.dispatch('getMessage', { id });
    if (!result.ok) throw new Error(result.error.message);
    out.push(result.value);
  }
  return out;
}

const bytesOf = (trace: { bytes: string }[]) =>
  trace.map((t) => Buffer.from(t.bytes, 'base64').toString('latin1'));

describe('a message’s exchange, as the Trace and Raw tabs show it', () => {
  it('ASTM: ENQ to EOT of this message only, NAKed frame included, even when the next ENQ shares a read', async () => {
    const { store, service, step, replyBytes } = await setup('astm');
    const acks = () => replyBytes().length;
    const f1 = '\x021H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\r\x038D\r\n';
    const bad = '\x022P|1X|PID001||DOE^JOHN||19800101|M\r\x0357\r\n';
    const f2 = '\x022P|1||PID001||DOE^JOHN||19800101|M\r\x0357\r\n';
    const f3 = '\x023L|1|N\r\x0306\r\n';
    await step('\x05', () => acks() >= 1);
    await step(f1, () => acks() >= 2);
    await step(bad, () => acks() >= 3);
    await step(f2, () => acks() >= 4);
    await step(f3, () => acks() >= 5);
    // The analyzer ends this session and opens the next in one write.
    await step('\x04\x05', () => acks() >= 6);
    const g1 = '\x021H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120500\r\x0392\r\n';
    await step(g1, () => acks() >= 7);
    await step(f3.replace('\x023', '\x022').replace('06', '05'), () => acks() >= 8);
    await step('\x04', () => true);
    await waitFor(() => store.queryMessages({ instrumentId: 'an' }).items.length === 2, 'stored');
    // Read as the Trace tab reads it: rows held for a message are written first.
    const traced = () =>
      store.getTrace({ instrumentId: 'an', from: 0, to: Date.now() + 60_000 }).items.length;
    await waitFor(() => traced() >= 17, 'trace written');

    const [first, second] = await detailsOf(store, service);
    // Placed by the stream ranges stored with the message (no search): the accepted frames.
    const stored = store.getMessage(first!.id)!.exchange!;
    expect(stored.ranges.map(([, length]) => length)).toEqual(
      [f1, f2, f3].map((frame) => frame.length - 2),
    );
    expect(stored.ranges[0]![0]).toBe(1);
    expect(replyBytes().toString('latin1')).toBe('\x06\x06\x15\x06\x06\x06\x06\x06');
    expect(first!.rawFrom).toBe('wire');
    expect(Buffer.from(first!.raw, 'base64').toString('latin1')).toBe(
      `\x05${f1}${bad}${f2}${f3}\x04`,
    );
    const trace = bytesOf(first!.trace);
    expect(trace[0]).toBe('\x05');
    expect(trace.at(-1)).toBe('\x04');
    expect(trace.join('')).toBe(`\x05\x06${f1}\x06${bad}\x15${f2}\x06${f3}\x06\x04`);
    expect(first!.trace[0]!.at).toBeLessThanOrEqual(first!.trace.at(-1)!.at);

    const next = bytesOf(second!.trace);
    expect(next[0]).toBe('\x05');
    expect(next.join('')).not.toContain('PID001');
    expect(next.at(-1)).toBe('\x04');
    expect(second!.exchange?.first.offset).toBe(1); // the ENQ after the EOT in the same read
  });

  it('HL7: the block and its acknowledgement, in MLLP framing, read with the charset of MSH-18', async () => {
    const { store, service, step, replyBytes } = await setup('hl7');
    const text = (id: string, charset: string) =>
      `MSH|^~\\&|X|Y|Z|W|20240101||ORU^R01|${id}|P|2.5.1||||||${charset}\rPID|1||P1\rOBR|1||S1\rOBX|1|NM|CREA||73|µmol/L|45-90|H`;
    const one = frameMllp(Buffer.from(text('ONE', 'UNICODE UTF-8'), 'utf8'));
    const two = frameMllp(Buffer.from(text('TWO', 'UNICODE UTF-8'), 'utf8'));
    await step(one, () => replyBytes().includes('MSA|AA|ONE'));
    await step(two, () => replyBytes().includes('MSA|AA|TWO'));
    // Read as the Trace tab reads it: rows held for a message are written first.
    const traced = () =>
      store.getTrace({ instrumentId: 'an', from: 0, to: Date.now() + 60_000 }).items.length;
    await waitFor(() => traced() >= 4, 'trace written');
    const [, second] = await detailsOf(store, service);
    expect(second!.rawCharset).toBe('utf8');
    expect(second!.results.map((r) => [r.value, r.units, r.referenceRange])).toEqual([
      ['73', 'µmol/L', '45-90'],
    ]);
    expect(Buffer.from(second!.raw, 'base64').equals(two)).toBe(true);
    const trace = second!.trace.map((t) => [t.direction, Buffer.from(t.bytes, 'base64')] as const);
    expect(trace[0]![0]).toBe('in');
    expect(trace[0]![1].equals(two)).toBe(true);
    expect(trace.at(-1)![0]).toBe('out');
    expect(trace.at(-1)![1].toString('latin1')).toContain('MSA|AA|TWO');
    expect(trace.map(([, b]) => b.toString('latin1')).join('')).not.toContain('ONE');
  });
});

describe('exchangeAt: the exchange placed by the stream ranges stored with the message', () => {
  const payload = Buffer.from(
    'MSH|^~\\&|X|Y|Z|W|20240101||ORU^R01|ONE|P|2.5.1\rPID|1||P1',
    'latin1',
  );
  const block = frameMllp(payload);
  const row = (id: number, direction: 'in' | 'out', bytes: Buffer, offset: number) => ({
    id,
    instrumentId: 'an',
    connectionId: 'c1',
    at: 1000 + id,
    direction,
    bytes,
    offset,
  });
  const message = {
    protocol: 'hl7' as const,
    direction: 'in' as const,
    receivedAt: 2000,
    raw: payload,
  };
  const exchange = { connectionId: 'c1', ranges: [[7 + 1, payload.length]] as [number, number][] };
  const ack = Buffer.from('\x0bMSH|ACK\x1c\r', 'latin1');

  it('cuts the block and its acknowledgement out of the rows, whatever the reads', () => {
    const stream = Buffer.concat([Buffer.from('junk\r\n\r', 'latin1'), block]);
    for (let cut = 1; cut < stream.length; cut++) {
      const rows = [
        row(1, 'in', stream.subarray(0, cut), 0),
        row(2, 'in', stream.subarray(cut), cut),
        row(3, 'out', ack, 0),
      ];
      const found = exchangeAt(message, exchange, rows);
      expect(found?.sent).toEqual(block);
      expect(Buffer.concat(found!.trace.map((t) => t.bytes))).toEqual(Buffer.concat([block, ack]));
    }
  });

  it('is null when the trace no longer holds all of it, or holds other bytes there', () => {
    const stream = Buffer.concat([Buffer.from('junk\r\n\r', 'latin1'), block]);
    // The first read is gone (purged): the rest alone does not hold the message.
    expect(exchangeAt(message, exchange, [row(2, 'in', stream.subarray(20), 20)])).toBeNull();
    const other = Buffer.from(stream);
    other[30] = other[30]! ^ 0xff;
    expect(exchangeAt(message, exchange, [row(1, 'in', other, 0)])).toBeNull();
  });
});
