/**
 * Bare ASTM records (`astm.framing: "raw"`) through the gateway: stored with their results,
 * nothing sent back, however the bytes are split, over a real TCP connection; and the handler's
 * own decisions (idle gap, unanswerable queries, storage failures) on a fake clock.
 */
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../src-shared/config';
import { AstmRawConnectionHandler } from '../../src-main/gateway/astm-raw-handler';
import type { InstrumentContext } from '../../src-main/gateway/context';
import type { GatewayEvent } from '../../src-main/gateway/events';
import { Gateway } from '../../src-main/gateway/gateway';
import type { LinkConnection } from '../../src-main/links/types';
import { openStore, type Store } from '../../src-main/store/store';
import type { NewMessage } from '../../src-main/store/types';
import { FakeClock } from '../support/fake-clock';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function message(sample: string, value: string, withL = true): string {
  return (
    `H|\\^&|||BENCH-1|||||||P|LIS2-A2|20260101120000\r` +
    `P|1||PAT-${sample}\r` +
    `O|1|${sample}||^^^K|R\r` +
    `R|1|^^^K|${value}|mmol/L||N||F||||20260101115500\r` +
    (withL ? 'L|1|N\r' : '')
  );
}

function startGateway(settings: Partial<InstrumentConfigInput>, port: number) {
  const temp = tempDir();
  const store = openStore({ file: path.join(temp.dir, 'gateway.sqlite'), durability: 'normal' });
  const gateway = new Gateway({ store });
  const events: GatewayEvent[] = [];
  gateway.subscribe((event) => events.push(event));
  gateway.start([
    instrumentConfigSchema.parse({
      id: 'bare',
      protocol: 'astm',
      mode: 'server',
      port,
      astm: { framing: 'raw' },
      ...settings,
    }),
  ]);
  cleanups.push(async () => {
    await gateway.close(1_000);
    temp.remove();
  });
  return { gateway, store, events };
}

function stored(store: Store) {
  const page = store.queryMessages({ instrumentId: 'bare', limit: 10_000, order: 'asc' });
  return page.items.map((summary) => store.getMessage(summary.id)!);
}

async function connected(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('bare ASTM records over TCP', () => {
  it('stores every message of one connection split at every byte offset, and sends nothing back', async () => {
    const port = await freePort();
    const { store, events } = startGateway({}, port);
    await waitFor(
      () => events.some((e) => e.type === 'status' && e.status.state === 'listening'),
      'listening',
    );
    const { socket, received } = await connected(port);
    const length = Buffer.byteLength(message('S000', '4.0'));
    const expected: string[] = [];
    for (let at = 1; at < length; at++) {
      const sample = `S${String(at).padStart(3, '0')}`;
      expected.push(sample);
      // CR LF endings on odd offsets: the LF is ignored wherever it lands.
      const text = message(sample, `${at}.5`);
      const wire = Buffer.from(at % 2 ? text.replaceAll('\r', '\r\n') : text, 'latin1');
      socket.write(wire.subarray(0, at));
      await tick();
      socket.write(wire.subarray(at));
    }
    await waitFor(() => stored(store).length === expected.length, 'every message stored');
    const messages = stored(store);
    expect(messages.map((m) => m.results[0]?.sampleId)).toEqual(expected);
    expect(messages.map((m) => m.results[0]?.value)).toEqual(
      expected.map((s) => `${Number(s.slice(1))}.5`),
    );
    for (const m of messages) {
      expect(m).toMatchObject({ direction: 'in', protocol: 'astm', status: 'stored', ack: null });
      expect(m.errors).toEqual([]);
      expect(m.results[0]).toMatchObject({
        patientId: `PAT-${m.results[0]!.sampleId}`,
        testCode: 'K',
      });
    }
    expect(Buffer.concat(received).length).toBe(0);
    socket.destroy();
  });

  it('ends a message without L at the next H or when the connection closes, with a note', async () => {
    const port = await freePort();
    const { store, events } = startGateway({ astm: { framing: 'raw', idleGapMs: 0 } }, port);
    await waitFor(
      () => events.some((e) => e.type === 'status' && e.status.state === 'listening'),
      'listening',
    );
    const { socket } = await connected(port);
    socket.write(message('A1', '1', false) + message('A2', '2', false));
    await waitFor(() => stored(store).length === 1, 'the first message, ended by the second H');
    socket.end();
    await waitFor(() => stored(store).length === 2, 'the second message, ended by the close');
    const [first, second] = stored(store);
    expect(first!.status).toBe('stored');
    expect(first!.errors.map((e) => e.message)).toEqual([
      'the message had no L record; it was ended where the next H record began',
    ]);
    expect(second!.errors.map((e) => e.message)).toEqual([
      'the message had no L record; it was ended when the connection closed',
    ]);
    expect([first, second].map((m) => m!.results[0]!.sampleId)).toEqual(['A1', 'A2']);
    // Said once in the log per connection, not once per message.
    const notes = events.filter((e) => e.type === 'log' && e.entry.code === 'ASTM_ENDED_WITHOUT_L');
    expect(notes).toHaveLength(1);
  });
});

/** The raw handler on a fake clock, storing into an array. */
function handlerWith(
  settings: Partial<InstrumentConfigInput>,
  persist?: InstrumentContext['persist'],
) {
  const clock = new FakeClock();
  const rows: NewMessage[] = [];
  const logs: string[] = [];
  const context: InstrumentContext = {
    config: instrumentConfigSchema.parse({
      id: 'bare',
      protocol: 'astm',
      mode: 'server',
      port: 15001,
      ...settings,
      astm: { framing: 'raw', ...settings.astm },
    }),
    clock,
    persist:
      persist ??
      ((row) => {
        rows.push(row);
        return Promise.resolve({ id: rows.length, duplicate: false });
      }),
    stored: () => undefined,
    storageFailed: (_error, what, withholds) => logs.push(`storage ${String(withholds)}: ${what}`),
    protocolError: (error) => logs.push(`${error.code}: ${error.message}`),
    note: (_level, code, text) => logs.push(`${code}: ${text}`),
    updateOutcome: () => undefined,
    nextControlId: () => 'GW1',
    orders: null,
    ordersSent: () => undefined,
  };
  const written: Buffer[] = [];
  const connection: LinkConnection = {
    id: 'bare#1',
    peer: '127.0.0.1:40000',
    write: (bytes) => written.push(bytes) > 0,
    close: () => undefined,
  };
  return { handler: new AstmRawConnectionHandler(connection, context), clock, rows, logs, written };
}

describe('the bare-records handler', () => {
  it('stores a message without L after astm.idleGapMs of silence, with a note, as stored', async () => {
    const { handler, clock, rows, written } = handlerWith({ astm: { idleGapMs: 1_500 } });
    handler.onData(Buffer.from(message('G1', '7.1', false), 'latin1'));
    expect(handler.busy).toBe(true);
    clock.advance(1_499);
    expect(rows).toHaveLength(0);
    clock.advance(1);
    await Promise.resolve();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'stored', ack: null });
    expect(rows[0]!.errors).toEqual([
      {
        code: 'ASTM_ENDED_WITHOUT_L',
        message:
          'the message had no L record; it was ended after 1.5 s without data (astm.idleGapMs)',
      },
    ]);
    expect(rows[0]!.results.map((r) => r.value)).toEqual(['7.1']);
    expect(written).toEqual([]);
  });

  it('stores a host query and says it cannot be answered on this line', async () => {
    const { handler, rows, logs, written } = handlerWith({});
    handler.onData(Buffer.from('H|\\^&\rQ|1|^SID9||ALL||||||||O\rL|1|N\r', 'latin1'));
    await Promise.resolve();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.sampleIds).toEqual(['SID9']);
    expect(logs.some((l) => l.startsWith('ASTM_QUERY_NOT_ANSWERED: '))).toBe(true);
    expect(written).toEqual([]);
  });

  it('writes a message again after a failed write, since the analyzer will not resend it', async () => {
    let failures = 2;
    const rows: NewMessage[] = [];
    const { handler, clock, logs } = handlerWith({}, (row) => {
      if (failures-- > 0) return Promise.reject(new Error('database or disk is full'));
      rows.push(row);
      return Promise.resolve({ id: 1, duplicate: false });
    });
    handler.onData(Buffer.from(message('F1', '3'), 'latin1'));
    await Promise.resolve();
    await Promise.resolve();
    expect(handler.busy).toBe(true);
    expect(logs[0]).toMatch(/^storage false: a message of bare records is kept in memory/);
    clock.advance(2_000);
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(2_000);
    await Promise.resolve();
    expect(rows.map((r) => r.results[0]!.sampleId)).toEqual(['F1']);
    expect(handler.busy).toBe(false);
  });

  it('refuses orders.download "push" with bare records, naming the field', () => {
    const parsed = instrumentConfigSchema.safeParse({
      id: 'bare',
      protocol: 'astm',
      mode: 'server',
      port: 15001,
      astm: { framing: 'raw' },
      orders: { download: 'push' },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.path).toEqual(['orders', 'download']);
  });
});
