/**
 * Inbound trace rows refer to the stored messages that hold their bytes instead of a second copy,
 * and reading the trace still gives back every byte exactly as received: for any split of the
 * stream into reads, HL7 and ASTM, with junk, several messages per read, a message split across
 * many reads, NAKed and resent frames, duplicates and messages that were never stored.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AstmSession, type AstmEvent } from '../../src-main/protocols/astm/session';
import type { AstmInboundMessage } from '../../src-main/protocols/astm/session-assembly';
import { encodeFrame } from '../../src-main/protocols/astm/frame';
import { MllpFramer, frameMllp } from '../../src-main/protocols/hl7/mllp';
import type { InsertOutcome, NewMessage, Store } from '../../src-main/store';
import { storeTestHooks } from '../../src-main/store/store';
import type { TraceRow } from '../../src-main/store/prepare';
import { HOLD_BYTES, HOLD_MS, MIN_REFERENCE, TraceReferences } from '../../src-main/store/trace';
import { FakeClock } from '../support/fake-clock';
import { storeSandbox, T0 } from './fixtures';

let sandbox: ReturnType<typeof storeSandbox>;
let store: Store;
let file: string;
beforeEach(() => {
  sandbox = storeSandbox();
  file = sandbox.file();
  store = sandbox.open({ file });
});
afterEach(() => sandbox.cleanup());

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

function hl7(control: string, obx: number): string {
  const segments = [
    `MSH|^~\\&|AN|LAB|LIS|HOSP|20260101120000||ORU^R01|${control}|P|2.5`,
    `PID|1||P${control}||DOE^JANE`,
    `OBR|1||S${control}|CHEM`,
    ...Array.from(
      { length: obx },
      (_, i) => `OBX|${i + 1}|NM|T${i}^Test ${i}||${i}.5|mmol/L|||||F`,
    ),
  ];
  return segments.join('\r');
}

function inbound(
  protocol: 'hl7' | 'astm',
  raw: Buffer,
  connectionId: string,
  ranges: [number, number][],
  dedupeKey: string | null = null,
): NewMessage {
  return {
    instrumentId: 'an1',
    protocol,
    direction: 'in',
    receivedAt: T0 + 1,
    text: raw.toString('latin1'),
    raw,
    status: 'stored',
    errors: [],
    results: [],
    dedupeKey,
    exchange: { connectionId, ranges },
  };
}

/** Every split of `stream` at one point, byte by byte, and whole. */
function splits(stream: Buffer): Buffer[][] {
  const all: Buffer[][] = [[stream]];
  for (let cut = 1; cut < stream.length; cut++) {
    all.push([stream.subarray(0, cut), stream.subarray(cut)]);
  }
  all.push([...stream].map((byte) => Buffer.of(byte)));
  return all;
}

/** Reads go into the trace with their stream offsets, as a connection records them. */
class Line {
  private offset = 0;
  private sent = 0;
  constructor(readonly connectionId: string) {}

  read(chunk: Buffer): void {
    store.enqueueTrace({
      instrumentId: 'an1',
      connectionId: this.connectionId,
      at: T0,
      direction: 'in',
      bytes: chunk,
      offset: this.offset,
    });
    this.offset += chunk.length;
  }

  write(bytes: Buffer): void {
    store.enqueueTrace({
      instrumentId: 'an1',
      connectionId: this.connectionId,
      at: T0,
      direction: 'out',
      bytes,
      offset: this.sent,
    });
    this.sent += bytes.length;
  }

  inbound(): Buffer {
    const rows = store.getTrace({
      instrumentId: 'an1',
      connectionId: this.connectionId,
      from: 0,
      to: T0 + 10_000,
      limit: 10_000,
    }).items;
    return Buffer.concat(rows.filter((r) => r.direction === 'in').map((r) => r.bytes));
  }

  /** What the database holds for this connection's inbound rows. */
  stored(): { bytes: number; referring: number; rows: number } {
    const db = new Database(file, { readonly: true });
    try {
      return db
        .prepare(
          `SELECT coalesce(sum(length(bytes)), 0) AS bytes, count(refs) AS referring,
             count(*) AS rows
           FROM trace WHERE connection_id = ? AND direction = 'in'`,
        )
        .get(this.connectionId) as { bytes: number; referring: number; rows: number };
    } finally {
      db.close();
    }
  }
}

async function feedHl7(line: Line, chunks: Buffer[]): Promise<InsertOutcome[]> {
  const framer = new MllpFramer();
  const commits: Promise<InsertOutcome>[] = [];
  for (const chunk of chunks) {
    line.read(chunk);
    for (const item of framer.push(chunk)) {
      if (item.kind !== 'message') continue;
      const control = /\|ORU\^R01\|([^|]+)\|/.exec(item.payload.toString('latin1'))?.[1] ?? null;
      commits.push(
        store.enqueue(
          inbound(
            'hl7',
            item.payload,
            line.connectionId,
            [[item.offset, item.payload.length]],
            `${line.connectionId}:${control}`,
          ),
        ),
      );
    }
  }
  return Promise.all(commits);
}

describe('trace rows refer to stored HL7 messages', () => {
  const first = latin1(hl7('C1', 3));
  const second = latin1(hl7('C2', 2));
  // Junk before, two messages, then the first again (a duplicate: not stored a second time).
  const stream = Buffer.concat([
    latin1('junk\r\n'),
    frameMllp(first),
    frameMllp(second),
    frameMllp(first),
  ]);

  it('gives back every byte as received at every split, storing the payloads once', async () => {
    const lines: Line[] = [];
    for (const [index, chunks] of splits(stream).entries()) {
      const line = new Line(`c${index}`);
      lines.push(line);
      const outcomes = await feedHl7(line, chunks);
      expect(outcomes.map((o) => o.duplicate)).toEqual([false, false, true]);
      line.write(latin1('\x0bMSH|ACK\x1c\r'));
      store.flush();
    }
    for (const line of lines) expect(line.inbound()).toEqual(stream);

    // Whole: only what no stored message holds is kept: junk, framing, the duplicate.
    const whole = lines[0]!.stored();
    expect(whole.referring).toBe(1);
    expect(whole.bytes).toBe(stream.length - first.length - second.length);
    // Split in two: each read refers to the parts of the payloads it holds.
    const halves = lines.slice(1, -1).map((line) => line.stored());
    for (const half of halves) {
      expect(half.bytes).toBeLessThanOrEqual(stream.length - first.length - second.length + 30);
    }
    // Byte by byte nothing is worth a reference.
    expect(lines.at(-1)!.stored()).toMatchObject({ referring: 0, bytes: stream.length });
  });

  it('keeps the bytes when the message was not stored (a failed commit) or tracing was off', async () => {
    const line = new Line('failed');
    storeTestHooks(store).setFaultInjector(() => {
      throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    });
    await expect(feedHl7(line, [frameMllp(first)])).rejects.toThrow();
    storeTestHooks(store).setFaultInjector(null);
    store.flush();
    expect(line.inbound()).toEqual(frameMllp(first));
    expect(line.stored()).toMatchObject({ referring: 0, bytes: first.length + 3 });

    // Messages stored while nothing was traced leave nothing behind for later rows to refer to.
    const quiet = new Line('quiet');
    await store.enqueue(inbound('hl7', second, 'quiet', [[1, second.length]]));
    store.flush();
    quiet.read(frameMllp(second));
    store.flush();
    expect(quiet.inbound()).toEqual(frameMllp(second));
    expect(quiet.stored().referring).toBe(0);
  });

  it('refuses a reference whose bytes differ from the message', async () => {
    const line = new Line('liar');
    const read = frameMllp(first);
    line.read(read);
    // The message claims bytes the connection never carried there.
    const other = Buffer.from(first);
    other[20] = other[20]! ^ 0xff;
    await store.enqueue(inbound('hl7', other, 'liar', [[1, other.length]]));
    store.flush();
    expect(line.inbound()).toEqual(read);
    expect(line.stored().referring).toBe(0);
  });
});

describe('trace rows refer to stored ASTM messages', () => {
  const records = (sample: string): string[] => [
    'H|\\^&|||AN^1|||||||P|LIS2-A2|20260101120000',
    `P|1||${sample}P`,
    `O|1|${sample}||^^^GLU|R`,
    `R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F`,
    'L|1|N',
  ];
  const frames = [...records('S1'), ...records('S2')].map((record, i) =>
    encodeFrame((i + 1) % 8, latin1(`${record}\r`), true),
  );
  // Frame 3 arrives damaged first (a wrong checksum: NAKed) and is sent again.
  const damaged = Buffer.from(frames[2]!);
  damaged[damaged.length - 3] = damaged[damaged.length - 3] === 0x30 ? 0x31 : 0x30;
  const stream = Buffer.concat([
    latin1('\x05'),
    frames[0]!,
    frames[1]!,
    damaged,
    ...frames.slice(2),
    latin1('\x04'),
  ]);

  /** Bytes of the frames as accepted (without CR LF) long enough to be worth a reference. */
  const referable = (list: Buffer[]): number =>
    list.map((frame) => frame.length - 2).reduce((n, l) => n + (l >= MIN_REFERENCE ? l : 0), 0);

  async function feedAstm(line: Line, chunks: Buffer[], fail = 0): Promise<void> {
    const clock = new FakeClock(T0);
    const commits: Promise<unknown>[] = [];
    let failures = fail;
    const session: AstmSession = new AstmSession({
      clock,
      role: 'host',
      onEvent: (event: AstmEvent) => {
        if (event.type === 'send') line.write(event.bytes);
        if (event.type !== 'messages') return;
        if (failures > 0) {
          // Not stored: its completing frame is NAKed and comes again.
          failures--;
          queueMicrotask(() => session.settle(false));
          return;
        }
        for (const message of event.messages) commits.push(store.enqueue(astmRow(message, line)));
        session.settle(true);
      },
    });
    for (const chunk of chunks) {
      line.read(chunk);
      session.receive(chunk);
      await Promise.resolve();
    }
    await Promise.all(commits);
  }

  function astmRow(message: AstmInboundMessage, line: Line): NewMessage {
    return inbound('astm', message.raw, line.connectionId, message.ranges);
  }

  it('gives back every byte as received at every split, NAKed frames kept literally', async () => {
    const lines: Line[] = [];
    for (const [index, chunks] of splits(stream).entries()) {
      const line = new Line(`a${index}`);
      lines.push(line);
      await feedAstm(line, chunks);
      store.flush();
    }
    expect(store.counts().messages).toBe(2 * lines.length);
    for (const line of lines) expect(line.inbound()).toEqual(stream);
    const whole = lines[0]!.stored();
    expect(whole.referring).toBe(1);
    expect(whole.bytes).toBe(stream.length - referable(frames));
    expect(lines.at(-1)!.stored()).toMatchObject({ referring: 0, bytes: stream.length });
  });

  it('holds the frames of a message that arrives over several side transactions until its commit', async () => {
    const line = new Line('slow');
    const chunks = [latin1('\x05'), ...frames.slice(0, 5), latin1('\x04')];
    const clock = new FakeClock(T0);
    const commits: Promise<unknown>[] = [];
    const session: AstmSession = new AstmSession({
      clock,
      role: 'host',
      onEvent: (event: AstmEvent) => {
        if (event.type === 'send') line.write(event.bytes);
        if (event.type !== 'messages') return;
        for (const message of event.messages) commits.push(store.enqueue(astmRow(message, line)));
        session.settle(true);
      },
    });
    for (const chunk of chunks) {
      line.read(chunk);
      session.receive(chunk);
      // The side work runs between every two reads, as it does on a slow line.
      storeTestHooks(store).runSideWork();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(commits);
    storeTestHooks(store).runSideWork();
    store.flush();
    const sent = Buffer.concat(chunks);
    expect(line.inbound()).toEqual(sent);
    expect(line.stored()).toMatchObject({
      referring: frames.slice(0, 5).filter((f) => f.length - 2 >= MIN_REFERENCE).length,
      bytes: sent.length - referable(frames.slice(0, 5)),
    });
  });

  it('refers to the resent frame when the first completing frame could not be stored', async () => {
    const line = new Line('resent');
    // One frame holding the whole message: its first copy is not stored (NAK), its second is.
    const packed = encodeFrame(
      1,
      latin1(
        records('S3')
          .map((r) => `${r}\r`)
          .join(''),
      ),
      true,
    );
    const chunks = [Buffer.concat([latin1('\x05'), packed]), packed, latin1('\x04')];
    await feedAstm(line, chunks, 1);
    store.flush();
    expect(store.counts().messages).toBe(1);
    const sent = Buffer.concat(chunks);
    expect(line.inbound()).toEqual(sent);
    expect(line.stored()).toMatchObject({ referring: 1, bytes: sent.length - (packed.length - 2) });
  });
});

describe('rows held for their message', () => {
  const row = (offset: number, length: number): TraceRow => ({
    instrumentId: 'an1',
    connectionId: 'c',
    at: T0,
    direction: 'in',
    bytes: Buffer.alloc(length, 0x41),
    offset,
  });

  it('go out as they are once no message came for them in HOLD_MS', () => {
    const references = new TraceReferences();
    expect(references.take([row(0, 10)], false, 0)).toEqual([]);
    expect(references.take([row(10, 5)], false, HOLD_MS - 1)).toEqual([]);
    expect(references.take([], false, HOLD_MS).map((r) => r.offset)).toEqual([0]);
    expect(references.take([], false, 2 * HOLD_MS).map((r) => r.offset)).toEqual([10]);
    expect(references.holding).toBe(0);
  });

  it('go out as they are, oldest first, beyond HOLD_BYTES', () => {
    const references = new TraceReferences();
    const big = HOLD_BYTES / 4;
    const rows = Array.from({ length: 6 }, (_, i) => row(i * big, big));
    const out = references.take(rows, false, 0);
    expect(out.map((r) => r.offset)).toEqual([0, big]);
    expect(references.holding).toBe(4);
  });
});

describe('retention never leaves a trace row referring to a deleted message', () => {
  const payload = latin1(hl7('R1', 4));

  async function traced(connectionId: string, at: number): Promise<Line> {
    const line = new Line(connectionId);
    const read = frameMllp(payload);
    store.enqueueTrace({
      instrumentId: 'an1',
      connectionId,
      at,
      direction: 'in',
      bytes: read,
      offset: 0,
    });
    await store.enqueue({
      ...inbound('hl7', payload, connectionId, [[1, payload.length]]),
      receivedAt: at,
    });
    store.flush();
    expect(line.stored().referring).toBe(1);
    return line;
  }

  it('gives the rows their bytes back when the trace is kept longer than the messages', async () => {
    const line = await traced('long', T0);
    const outcome = store.purge({ messagesBefore: T0 + 1, traceBefore: T0 - 1, batchSize: 10 });
    expect(outcome.messages).toBe(1);
    expect(store.counts().messages).toBe(0);
    expect(line.inbound()).toEqual(frameMllp(payload));
    expect(line.stored()).toMatchObject({ referring: 0, bytes: payload.length + 3 });
  });

  it('deletes a message only after the rows that refer to it, batch by batch', async () => {
    const lines = [];
    for (let i = 0; i < 5; i++) lines.push(await traced(`b${i}`, T0 + i));
    // Trace and messages both due; small batches: never a message before its rows.
    let more = true;
    while (more) {
      const outcome = store.purge({
        messagesBefore: T0 + 100,
        traceBefore: T0 + 100,
        batchSize: 1,
      });
      more = outcome.more;
      for (const line of lines) expect(() => line.inbound()).not.toThrow();
      const db = new Database(file, { readonly: true });
      try {
        const dangling = db
          .prepare(
            `SELECT count(*) FROM trace t, json_each(t.refs) j
             WHERE j.type = 'array' AND NOT EXISTS
               (SELECT 1 FROM messages m WHERE m.id = j.value ->> 0)`,
          )
          .pluck()
          .get();
        expect(dangling).toBe(0);
      } finally {
        db.close();
      }
    }
    expect(store.counts()).toMatchObject({ messages: 0, trace: 0 });
  });

  it('remembers the rows that gave their bytes back; a row from before then never refers', async () => {
    await traced('first', T0);
    store.purge({ messagesBefore: T0 + 100, traceBefore: T0 - 1, batchSize: 10 });
    expect(store.counts()).toMatchObject({ messages: 0, trace: 1 });
    // A clock set back: bytes stamped before that point stay whole even though a message holds them.
    const line = new Line('late');
    const read = frameMllp(payload);
    store.enqueueTrace({
      instrumentId: 'an1',
      connectionId: 'late',
      at: T0 + 50,
      direction: 'in',
      bytes: read,
      offset: 0,
    });
    await store.enqueue({
      ...inbound('hl7', payload, 'late', [[1, payload.length]]),
      receivedAt: T0 + 60,
    });
    store.flush();
    expect(line.stored()).toMatchObject({ referring: 0, bytes: read.length });
    store.purge({ messagesBefore: T0 + 100, traceBefore: T0 - 1, batchSize: 10 });
    expect(store.counts()).toMatchObject({ messages: 0, trace: 2 });
    expect(line.inbound()).toEqual(read);
  });

  it('purges the trace of every instrument, a batch at a time', () => {
    const rows = ['an1', 'an2', 'an3'].flatMap((instrumentId) =>
      Array.from({ length: 5 }, (_, i) => ({
        instrumentId,
        connectionId: 'c',
        at: T0 + i,
        direction: 'in' as const,
        bytes: Buffer.from('x'),
      })),
    );
    store.appendTrace(rows);
    const first = store.purge({ messagesBefore: 0, traceBefore: T0 + 3, batchSize: 4 });
    expect(first).toMatchObject({ trace: 4, more: true });
    const second = store.purge({ messagesBefore: 0, traceBefore: T0 + 3, batchSize: 4 });
    expect(second).toMatchObject({ trace: 4, more: true });
    const third = store.purge({ messagesBefore: 0, traceBefore: T0 + 3, batchSize: 4 });
    expect(third).toMatchObject({ trace: 1, more: false });
    expect(store.counts().trace).toBe(6);
    for (const instrumentId of ['an1', 'an2', 'an3']) {
      const left = store.getTrace({ instrumentId, from: 0, to: T0 + 10 }).items;
      expect(left.map((r) => r.at)).toEqual([T0 + 3, T0 + 4]);
    }
  });

  it('keeps messages whose rows are kept, while their own retention allows', async () => {
    const line = await traced('kept', T0);
    store.purge({ messagesBefore: T0 - 1, traceBefore: T0 + 1, batchSize: 10 });
    expect(store.counts()).toMatchObject({ messages: 1, trace: 0 });
    expect(line.inbound()).toEqual(Buffer.alloc(0));
  });
});
