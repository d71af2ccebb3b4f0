/**
 * Serial links over real pseudo-terminals (a socat pair standing in for a null-modem cable): ASTM
 * E1381 end to end with an analyzer peer written from the standard, the pair torn down and made
 * again under the same name, and bare records split at every byte offset.
 */
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../src-shared/config';
import type { GatewayEvent } from '../../src-main/gateway/events';
import { Gateway } from '../../src-main/gateway/gateway';
import { openStore, type Store } from '../../src-main/store/store';
import { E1381Sender } from '../support/e1381-peer';
import { waitFor } from '../support/ports';
import { PtyPair } from '../support/pty-pair';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setUp(settings: Partial<InstrumentConfigInput> = {}) {
  const temp = tempDir();
  const pair = new PtyPair(temp.dir);
  await pair.start();
  const store = openStore({ file: path.join(temp.dir, 'gateway.sqlite'), durability: 'normal' });
  const gateway = new Gateway({ store });
  const events: GatewayEvent[] = [];
  gateway.subscribe((event) => events.push(event));
  gateway.start([
    instrumentConfigSchema.parse({
      id: 'rs1',
      protocol: 'astm',
      transport: 'serial',
      serial: { path: pair.gateway, baudRate: 9600 },
      ...settings,
    }),
  ]);
  cleanups.push(async () => {
    await gateway.close(1_000);
    await pair.stop();
    temp.remove();
  });
  return { pair, store, gateway, events };
}

async function openAnalyzer(portPath: string): Promise<SerialPort> {
  const port = new SerialPort({ path: portPath, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((error) => (error ? reject(error) : resolve())),
  );
  port.on('error', () => undefined);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) resolve();
        else port.close(() => resolve());
      }),
  );
  return port;
}

function stored(store: Store) {
  const page = store.queryMessages({ instrumentId: 'rs1', limit: 10_000, order: 'asc' });
  return page.items.map((summary) => store.getMessage(summary.id)!);
}

function records(sample: string, value: string): string[] {
  return [
    'H|\\^&|||PTY-ANALYZER|||||||P|LIS2-A2|20260101120000',
    `P|1||PAT-${sample}`,
    `O|1|${sample}||^^^GLU|R`,
    `R|1|^^^GLU|${value}|mmol/L||N||F||||20260101115500`,
    'L|1|N',
  ];
}

describe('serial link over a pty pair', () => {
  it('receives ASTM E1381 end to end, and reopens when the pair is torn down and made again', async () => {
    const { pair, store, gateway } = await setUp();
    await waitFor(() => gateway.status('rs1')?.state === 'connected', 'the port to open');
    expect(gateway.status('rs1')).toMatchObject({
      transport: 'serial',
      mode: null,
      port: null,
      serial: { path: pair.gateway, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
      peers: [pair.gateway],
    });

    const analyzer = await openAnalyzer(pair.analyzer);
    await new E1381Sender(analyzer).send(records('PTY1', '5.4'));
    await waitFor(() => stored(store).length === 1, 'the first message stored');

    // The cable pulled: both ends vanish; the link says so and keeps trying.
    await pair.stop();
    await waitFor(() => gateway.status('rs1')?.state === 'reconnecting', 'the link to notice');
    expect(gateway.status('rs1')!.reason).toMatch(new RegExp(`^${pair.gateway}`));

    // Made again under the same name: the link reopens by itself, and the next message is stored.
    await pair.start();
    await waitFor(() => gateway.status('rs1')?.state === 'connected', 'the port to reopen', 15_000);
    const again = await openAnalyzer(pair.analyzer);
    await new E1381Sender(again).send(records('PTY2', '6.1'));
    await waitFor(() => stored(store).length === 2, 'the second message stored');

    const messages = stored(store);
    expect(
      messages.map((m) => [m.results[0]!.sampleId, m.results[0]!.value, m.status, m.ack]),
    ).toEqual([
      ['PTY1', '5.4', 'stored', 'ACK'],
      ['PTY2', '6.1', 'stored', 'ACK'],
    ]);
  });

  it('takes noise and a damaged frame in its stride: NAK, a log line, and the link stays up', async () => {
    const { pair, store, gateway, events } = await setUp();
    await waitFor(() => gateway.status('rs1')?.state === 'connected', 'the port to open');
    const analyzer = await openAnalyzer(pair.analyzer);
    const replies: number[] = [];
    analyzer.on('data', (chunk: Buffer) => replies.push(...chunk));
    // Line noise while idle (what a parity or framing error leaves behind), then a session whose
    // first frame arrives with a flipped byte: it is answered NAK, and the good copy ACK.
    analyzer.write(Buffer.from([0xff, 0x00, 0x7f, 0x13, 0xfe]));
    analyzer.write(Buffer.of(0x05));
    await waitFor(() => replies.length === 1, 'the answer to ENQ');
    const good = Buffer.from('\x021H|\\^&\r\x03', 'latin1');
    const sum = [...good.subarray(1, good.length)].reduce((a, b) => a + b, 0) % 256;
    const checksum = sum.toString(16).toUpperCase().padStart(2, '0');
    const frameBytes = Buffer.concat([good, Buffer.from(`${checksum}\r\n`, 'latin1')]);
    const damaged = Buffer.from(frameBytes);
    damaged[4] = 0x5e ^ 0x40; // one bit flipped inside the text
    analyzer.write(damaged);
    await waitFor(() => replies.length === 2, 'the answer to the damaged frame');
    analyzer.write(frameBytes);
    await waitFor(() => replies.length === 3, 'the answer to the good frame');
    expect(replies).toEqual([0x06, 0x15, 0x06]);
    analyzer.write(Buffer.of(0x04));
    expect(events.some((e) => e.type === 'log' && e.entry.code === 'ASTM_BAD_CHECKSUM')).toBe(true);
    expect(gateway.status('rs1')!.state).toBe('connected');
    // The next session is stored as usual.
    await new E1381Sender(analyzer).send(records('NOISE1', '4.4'));
    await waitFor(() => stored(store).some((m) => m.results[0]?.sampleId === 'NOISE1'), 'stored');
    expect(gateway.status('rs1')!.state).toBe('connected');
  });

  it('stores bare records split at every byte offset, several messages on the line', async () => {
    const { pair, store, gateway } = await setUp({ astm: { framing: 'raw' } });
    await waitFor(() => gateway.status('rs1')?.state === 'connected', 'the port to open');
    const analyzer = await openAnalyzer(pair.analyzer);
    const received: Buffer[] = [];
    analyzer.on('data', (chunk: Buffer) => received.push(chunk));
    const wire = (sample: string) =>
      Buffer.from(`${records(sample, '1.0').join('\r\n')}\r\n`, 'latin1');
    const length = wire('B000').length;
    const drain = () => new Promise<void>((resolve) => analyzer.drain(() => resolve()));
    const samples: string[] = [];
    for (let at = 1; at < length; at++) {
      const sample = `B${String(at).padStart(3, '0')}`;
      samples.push(sample);
      const bytes = wire(sample);
      analyzer.write(bytes.subarray(0, at));
      await drain();
      await new Promise((resolve) => setTimeout(resolve, 2));
      analyzer.write(bytes.subarray(at));
      await drain();
    }
    await waitFor(() => stored(store).length === samples.length, 'every message stored');
    expect(stored(store).map((m) => m.results[0]!.sampleId)).toEqual(samples);
    expect(stored(store).every((m) => m.status === 'stored' && m.ack === null)).toBe(true);
    expect(Buffer.concat(received).length).toBe(0);
  });
});
