import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../src-shared/config';
import type { InstrumentStatus } from '../../src-shared/status';
import type { GatewayEvent } from '../../src-main/gateway/events';
import { Gateway } from '../../src-main/gateway/gateway';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { FRAMES_TEXT, FRAMES_TEXT_LATIN1 } from '../../src-main/store/compact';
import { openStore, type Store, storeTestHooks } from '../../src-main/store/store';
import type { SimulatedSample } from '../../src-main/simulator/content';
import { runSimulator } from '../../src-main/simulator/simulator';
import { FakeClock } from '../support/fake-clock';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';
import { hl7Message } from '../store/fixtures';

interface Harness {
  gateway: Gateway;
  store: Store;
  events: GatewayEvent[];
  dbFile: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function startGateway(instruments: InstrumentConfigInput[]): Harness {
  const temp = tempDir();
  const dbFile = path.join(temp.dir, 'gateway.sqlite');
  const store = openStore({ file: dbFile, durability: 'normal' });
  const gateway = new Gateway({ store });
  const events: GatewayEvent[] = [];
  gateway.subscribe((event) => events.push(event));
  gateway.start(instruments.map((i) => instrumentConfigSchema.parse(i)));
  cleanups.push(async () => {
    await gateway.close(1_000);
    temp.remove();
  });
  return { gateway, store, events, dbFile };
}

function statusesOf(events: GatewayEvent[], id: string): InstrumentStatus[] {
  return events.flatMap((e) => (e.type === 'status' && e.status.id === id ? [e.status] : []));
}

function astmIso(stamp: string): string {
  return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}`;
}

/** Every stored message of the instrument, oldest first, with its results. */
function storedMessages(store: Store, instrumentId: string) {
  const page = store.queryMessages({ instrumentId, limit: 1000, order: 'asc' });
  return page.items.map((summary) => store.getMessage(summary.id)!);
}

function expectStoredAsSent(
  store: Store,
  instrumentId: string,
  sent: Map<string, SimulatedSample>,
): void {
  const stored = storedMessages(store, instrumentId).filter((m) => m.direction === 'in');
  expect(stored).toHaveLength(sent.size);
  const bySample = new Map(stored.map((m) => [m.results[0]?.sampleId, m]));
  for (const sample of sent.values()) {
    const message = bySample.get(sample.sampleId);
    expect(message, `message for ${sample.sampleId}`).toBeDefined();
    expect(message!.status).toBe('stored');
    expect(message!.results).toEqual(
      sample.results.map((r) => ({
        sampleId: sample.sampleId,
        patientId: sample.patientId,
        testCode: r.code,
        value: r.value,
        units: r.units,
        flags: r.flag,
        status: 'F',
        observedAt: astmIso(sample.observedAt),
        qc: false,
      })),
    );
  }
}

describe.each([
  ['astm', 'server'],
  ['astm', 'client'],
  ['hl7', 'server'],
  ['hl7', 'client'],
] as const)('a %s %s link', (protocol, mode) => {
  it('stores what the analyzer sent, exactly once, and acknowledges each message', async () => {
    const port = await freePort();
    const { store, events, dbFile } = startGateway([
      {
        id: 'an1',
        protocol,
        mode,
        port,
        reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      },
    ]);
    const sent = new Map<string, SimulatedSample>();
    const acked: string[] = [];
    if (mode === 'server') {
      await waitFor(
        () => statusesOf(events, 'an1').some((s) => s.state === 'listening'),
        'listening',
      );
    }
    const summary = await runSimulator({
      protocol,
      target:
        mode === 'server'
          ? { connect: { host: '127.0.0.1', port } }
          : { listen: { host: '127.0.0.1', port } },
      messages: 25,
      results: 4,
      ackTimeoutMs: 10_000,
      onMessage: (id, sample) => sent.set(id, sample),
      onAcked: (id) => acked.push(id),
    });
    expect(summary).toMatchObject({ sent: 25, acked: 25, rejected: 0, failed: 0 });
    expect(acked).toEqual([...sent.keys()]);
    expectStoredAsSent(store, 'an1', sent);
    // The text is read from the bytes (an ASTM message's from its frames), not stored again.
    const db = new Database(dbFile, { readonly: true });
    try {
      expect(
        db
          .prepare(
            `SELECT count(*) AS n FROM messages
             WHERE direction = 'in' AND text_is_raw = 1 AND text IN (SELECT value FROM json_each(?))`,
          )
          .get(JSON.stringify(protocol === 'astm' ? [FRAMES_TEXT, FRAMES_TEXT_LATIN1] : [''])),
        // ASTM: UTF-8 or, for the simulator's non-ASCII names, Latin-1 (the link's default).
      ).toEqual({ n: 25 });
    } finally {
      db.close();
    }
    const stored = events.filter((e) => e.type === 'messageStored');
    expect(stored).toHaveLength(25);
    const last = statusesOf(events, 'an1').at(-1)!;
    expect(last.counters.messagesIn).toBe(25);
    expect(last.lastMessageAt).not.toBeNull();
    // The session trace holds every chunk in and out.
    const trace = store.getTrace({
      instrumentId: 'an1',
      from: 0,
      to: Date.now() + 1000,
      limit: 10_000,
    });
    expect(trace.items.some((t) => t.direction === 'in')).toBe(true);
    expect(trace.items.some((t) => t.direction === 'out')).toBe(true);
    // Each message knows where its bytes lie in its connection's stream, and the trace read back
    // holds exactly those bytes there, though it refers to the message instead of a second copy.
    for (const message of storedMessages(store, 'an1')) {
      const exchange = message.exchange!;
      const rows = trace.items.filter(
        (t) => t.connectionId === exchange.connectionId && t.direction === 'in',
      );
      const base = rows[0]!.offset!;
      const stream = Buffer.concat(rows.map((t) => t.bytes));
      const bytes = exchange.ranges.map(([at, length]) =>
        stream.subarray(at - base, at - base + length),
      );
      expect(Buffer.concat(bytes)).toEqual(Buffer.from(message.raw));
    }
    const db2 = new Database(dbFile, { readonly: true });
    try {
      const row = db2
        .prepare(
          `SELECT count(refs) AS referring, coalesce(sum(length(bytes)), 0) AS kept
           FROM trace WHERE direction = 'in'`,
        )
        .get() as { referring: number; kept: number };
      expect(row.referring).toBeGreaterThan(0);
      const raw = storedMessages(store, 'an1').reduce((n, m) => n + m.raw.length, 0);
      const received = trace.items
        .filter((t) => t.direction === 'in')
        .reduce((n, t) => n + t.bytes.length, 0);
      // Whatever the reads were, most of the messages' bytes are not in the trace again.
      expect(row.kept).toBeLessThan(received - raw / 2);
    } finally {
      db2.close();
    }
  });
});

describe('client links', () => {
  it('reconnect each time the analyzer comes back, with backoff shown, and store no duplicates', async () => {
    const port = await freePort();
    const { store, events } = startGateway([
      {
        id: 'cl1',
        protocol: 'hl7',
        mode: 'client',
        port,
        reconnect: { initialDelayMs: 10, maxDelayMs: 40, jitter: 0 },
      },
    ]);
    const sent = new Map<string, SimulatedSample>();
    for (let round = 0; round < 20; round++) {
      const summary = await runSimulator({
        protocol: 'hl7',
        target: { listen: { host: '127.0.0.1', port } },
        messages: 2,
        results: 2,
        runId: `R${String(round).padStart(2, '0')}`,
        onMessage: (id, sample) => sent.set(id, sample),
      });
      expect(summary.acked).toBe(2);
    }
    expect(sent.size).toBe(40);
    expectStoredAsSent(store, 'cl1', sent);
    const statuses = statusesOf(events, 'cl1');
    const connects = statuses.filter(
      (s, i) => s.state === 'connected' && statuses[i - 1]?.state !== 'connected',
    );
    expect(connects.length).toBeGreaterThanOrEqual(20);
    const retrying = statuses.filter((s) => s.state === 'reconnecting');
    expect(retrying.length).toBeGreaterThanOrEqual(19);
    expect(retrying.every((s) => s.nextRetryAt !== null && s.nextRetryAt >= s.since)).toBe(true);
  });

  it('detect a half-open peer with the idle timeout and report it', async () => {
    const port = await freePort();
    const silent = net.createServer(() => {
      // Accepts and then never says anything, like a peer whose other end vanished.
    });
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const { events } = startGateway([
      {
        id: 'half',
        protocol: 'astm',
        mode: 'client',
        port,
        idleTimeoutMs: 300,
        reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
      },
    ]);
    await waitFor(
      () => events.some((e) => e.type === 'log' && e.entry.code === 'LINK_IDLE_TIMEOUT'),
      'the idle timeout',
      5_000,
    );
    await waitFor(
      () => statusesOf(events, 'half').some((s) => s.state === 'reconnecting'),
      'reconnecting',
      5_000,
    );
  });
});

describe('bad input', () => {
  it('an oversized HL7 message gets a coded error; the connection and other links keep working', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const { store, events } = startGateway([
      { id: 'a', protocol: 'hl7', mode: 'server', port: portA, maxMessageBytes: 2048 },
      { id: 'b', protocol: 'hl7', mode: 'server', port: portB },
    ]);
    await waitFor(
      () => ['a', 'b'].every((id) => statusesOf(events, id).some((s) => s.state === 'listening')),
      'both listening',
    );
    const socket = net.connect(portA, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    await new Promise((resolve) => socket.once('connect', resolve));
    const big = `MSH|^~\\&|X|Y|Z|W|20240101||ORU^R01|BIG1|P|2.5.1\rOBX|1|TX|NOTE||${'x'.repeat(10_000)}`;
    socket.write(
      Buffer.concat([Buffer.from('junk before the block'), frameMllp(Buffer.from(big))]),
    );
    const ok =
      'MSH|^~\\&|X|Y|Z|W|20240101||ORU^R01|OK1|P|2.5.1\rPID|1||P1\rOBR|1||S1\rOBX|1|NM|GLU||5.4|mmol/L';
    socket.write(frameMllp(Buffer.from(ok)));
    await waitFor(
      () => Buffer.concat(received).includes('MSA|AA|OK1'),
      'the ACK of the normal message',
    );
    const codes = events.flatMap((e) =>
      e.type === 'log' && e.entry.instrumentId === 'a' ? [e.entry.code] : [],
    );
    expect(codes).toContain('MLLP_MESSAGE_TOO_LARGE');
    expect(codes).toContain('MLLP_UNEXPECTED_BYTES');
    expect(Buffer.concat(received).includes('BIG1')).toBe(false);
    socket.destroy();

    const other = await runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port: portB } },
      messages: 3,
      results: 1,
    });
    expect(other.acked).toBe(3);
    expect(store.queryMessages({ instrumentId: 'a' }).items.map((m) => m.controlId)).toEqual([
      'OK1',
    ]);
  });

  it('an ASTM frame with a bad checksum is NAKed and its retransmission stored once', async () => {
    const port = await freePort();
    const { store, events } = startGateway([{ id: 'c', protocol: 'astm', mode: 'server', port }]);
    await waitFor(() => statusesOf(events, 'c').some((s) => s.state === 'listening'), 'listening');
    const socket = net.connect(port, '127.0.0.1');
    const replies: number[] = [];
    socket.on('data', (chunk: Buffer) => replies.push(...chunk));
    await new Promise((resolve) => socket.once('connect', resolve));
    const frames = [
      '\x021H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\r\x038D\r\n',
      '\x022P|1X|PID001||DOE^JOHN||19800101|M\r\x0357\r\n', // corrupted: the sum is 33
      '\x022P|1||PID001||DOE^JOHN||19800101|M\r\x0357\r\n',
      '\x023O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F\r\x03C4\r\n',
      '\x024R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500\r\x03FC\r\n',
      '\x025L|1|N\r\x0308\r\n',
    ];
    const step = async (bytes: string, count: number) => {
      socket.write(Buffer.from(bytes, 'latin1'));
      await waitFor(() => replies.length >= count, `reply ${count}`);
    };
    await step('\x05', 1);
    for (const [i, frame] of frames.entries()) await step(frame, i + 2);
    socket.write('\x04');
    expect(replies).toEqual([0x06, 0x06, 0x15, 0x06, 0x06, 0x06, 0x06]);
    socket.destroy();
    const messages = storedMessages(store, 'c');
    expect(messages).toHaveLength(1);
    // Received whole and acknowledged: the NAKed frame was recovered, kept as a note.
    expect(messages[0]!.status).toBe('stored');
    expect(messages[0]!.errors.map((e) => e.code)).toContain('ASTM_BAD_CHECKSUM');
    expect(messages[0]!.results).toEqual([
      {
        sampleId: 'SID001',
        patientId: 'PID001',
        testCode: 'GLU',
        value: '5.4',
        units: 'mmol/L',
        flags: 'N',
        status: 'F',
        observedAt: '2024-01-01T11:55:00',
        qc: false,
      },
    ]);
    expect(
      events.some(
        (e) =>
          e.type === 'log' &&
          e.entry.code === 'ASTM_BAD_CHECKSUM' &&
          e.entry.message.includes('expected 33, got 57'),
      ),
    ).toBe(true);
  });
});

describe('host queries', () => {
  it('an ASTM host query is stored and answered with "no information" in a session of our own', async () => {
    const port = await freePort();
    const { store, events } = startGateway([{ id: 'q', protocol: 'astm', mode: 'server', port }]);
    await waitFor(() => statusesOf(events, 'q').some((s) => s.state === 'listening'), 'listening');
    const socket = net.connect(port, '127.0.0.1');
    const received: number[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) {
        received.push(byte);
        // Play the analyzer's receiver: accept the gateway's ENQ and every frame.
        if (byte === 0x05 || byte === 0x0a) socket.write(Buffer.of(0x06));
      }
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    const query = [
      '\x05',
      '\x021H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\r\x038D\r\n',
      '\x022Q|1|^SID001||ALL||||||||O\r\x038B\r\n',
      '\x023L|1|N\r\x0306\r\n',
      '\x04',
    ];
    for (const part of query) socket.write(Buffer.from(part, 'latin1'));
    await waitFor(() => received.includes(0x04), 'the answer session to end with EOT', 5_000);
    const answer = Buffer.from(received).toString('latin1');
    expect(answer).toContain('\x05');
    expect(answer).toContain('\x021H|');
    expect(answer).toContain('\x022L|1|I\r\x03');
    socket.destroy();
    await waitFor(
      () => storedMessages(store, 'q').some((m) => m.direction === 'out' && m.status === 'sent'),
      'the answer recorded as sent',
    );
    const stored = storedMessages(store, 'q');
    expect(stored.map((m) => m.direction).sort()).toEqual(['in', 'out']);
    expect(stored.find((m) => m.direction === 'out')!.text).toContain('L|1|I');
    expect(stored.find((m) => m.direction === 'in')!.sampleIds).toEqual(['SID001']);
  });
});

describe('storage failures', () => {
  it('are never acknowledged: HL7 gets AR, ASTM gets NAK, and traffic resumes when storage returns', async () => {
    const [hl7Port, astmPort] = [await freePort(), await freePort()];
    const { store, events, gateway } = startGateway([
      { id: 'h', protocol: 'hl7', mode: 'server', port: hl7Port },
      { id: 'm', protocol: 'astm', mode: 'server', port: astmPort },
    ]);
    await waitFor(
      () => ['h', 'm'].every((id) => statusesOf(events, id).some((s) => s.state === 'listening')),
      'listening',
    );
    storeTestHooks(store).setFaultInjector(() => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    const refused = await runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port: hl7Port } },
      messages: 2,
      results: 1,
    });
    expect(refused).toMatchObject({ acked: 0, rejected: 2 });
    expect(gateway.status('h')!.storageFailing).toBe(true);
    expect(
      events.some(
        (e) => e.type === 'log' && e.entry.message.startsWith('not acknowledging: storage failed'),
      ),
    ).toBe(true);

    // ASTM: the frame completing the message is NAKed, never ACKed, while storage fails.
    const socket = net.connect(astmPort, '127.0.0.1');
    const replies: number[] = [];
    socket.on('data', (chunk: Buffer) => replies.push(...chunk));
    await new Promise((resolve) => socket.once('connect', resolve));
    const send = async (bytes: string, count: number) => {
      socket.write(Buffer.from(bytes, 'latin1'));
      await waitFor(() => replies.length >= count, `reply ${count}`);
    };
    await send('\x05', 1);
    await send('\x021H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\r\x038D\r\n', 2);
    await send('\x022L|1|N\r\x0305\r\n', 3);
    expect(replies).toEqual([0x06, 0x06, 0x15]);

    storeTestHooks(store).setFaultInjector(null);
    await send('\x022L|1|N\r\x0305\r\n', 4);
    expect(replies.at(-1)).toBe(0x06);
    socket.end('\x04');
    await waitFor(() => store.queryMessages({ instrumentId: 'm' }).items.length === 1, 'stored');

    const resumed = await runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port: hl7Port } },
      messages: 2,
      results: 1,
    });
    expect(resumed.acked).toBe(2);
    expect(gateway.status('h')!.storageFailing).toBe(false);
  });
});

describe('graceful shutdown', () => {
  it('finishes within the deadline and keeps every acknowledged message', async () => {
    const port = await freePort();
    const h = startGateway([{ id: 'g', protocol: 'hl7', mode: 'server', port }]);
    await waitFor(
      () => statusesOf(h.events, 'g').some((s) => s.state === 'listening'),
      'listening',
    );
    const acked: string[] = [];
    const traffic = runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port } },
      messages: 100_000,
      results: 3,
      onAcked: (id) => acked.push(id),
    });
    await waitFor(() => acked.length >= 50, 'some traffic');
    const started = Date.now();
    await h.gateway.close(2_000);
    expect(Date.now() - started).toBeLessThan(2_500);
    const summary = await traffic;
    expect(summary.acked).toBeLessThan(100_000);
    const reopened = openStore({ file: h.dbFile, readonly: true });
    const stored = new Set<string>();
    for (const m of reopened.messagesForCli({ instrumentId: 'g' })) stored.add(m.controlId!);
    reopened.close();
    for (const id of acked) expect(stored.has(id), id).toBe(true);
  });
});

describe('run-time changes', () => {
  it('restart only the changed instrument', async () => {
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const { gateway, events } = startGateway([
      { id: 'x', protocol: 'hl7', mode: 'server', port: p1 },
      { id: 'y', protocol: 'astm', mode: 'server', port: p2 },
    ]);
    await waitFor(
      () => ['x', 'y'].every((id) => gateway.status(id)?.state === 'listening'),
      'listening',
    );
    const ySince = gateway.status('y')!.since;
    await gateway.updateInstrument(
      instrumentConfigSchema.parse({ id: 'x', protocol: 'hl7', mode: 'server', port: p3 }),
    );
    await waitFor(() => gateway.status('x')?.state === 'listening', 'x listening again');
    expect(gateway.status('x')!.port).toBe(p3);
    expect(gateway.status('y')!.since).toBe(ySince);
    const summary = await runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port: p3 } },
      messages: 1,
      results: 1,
    });
    expect(summary.acked).toBe(1);
    await gateway.setEnabled('y', false);
    expect(gateway.status('y')!.state).toBe('disabled');
    await gateway.removeInstrument('x');
    expect(gateway.status('x')).toBeNull();
    expect(events.some((e) => e.type === 'instrumentRemoved' && e.id === 'x')).toBe(true);
  });
});

describe('saving settings while an analyzer is connected', () => {
  const oru = (id: string) =>
    frameMllp(
      Buffer.from(
        `MSH|^~\\&|X|Y|Z|W|20240101||ORU^R01|${id}|P|2.5.1\rPID|1||P1\rOBR|1||S1\rOBX|1|NM|GLU||5.4|mmol/L`,
      ),
    );

  it('keeps the connection for a new name, alarm or mapping, and reconnects for a new port', async () => {
    const [port, newPort] = [await freePort(), await freePort()];
    const input = { id: 'h', protocol: 'hl7', mode: 'server', port } as const;
    const { gateway, store, events } = startGateway([input]);
    await waitFor(() => gateway.status('h')?.state === 'listening', 'listening');
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('close', () => (closed = true));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(oru('BEFORE1'));
    await waitFor(() => Buffer.concat(received).includes('MSA|AA|BEFORE1'), 'first ACK');

    const plan = await gateway.updateInstrument(
      instrumentConfigSchema.parse({
        ...input,
        name: 'Chemistry 2',
        silence: { afterMs: 60_000 },
        testCodes: { GLU: 'GLUC' },
        qc: { sampleIds: ['S1'] },
      }),
    );
    expect(plan.reconnect).toEqual([]);
    expect(gateway.status('h')!.name).toBe('Chemistry 2');
    expect(gateway.status('h')!.state).toBe('connected');
    socket.write(oru('AFTER1'));
    await waitFor(() => Buffer.concat(received).includes('MSA|AA|AFTER1'), 'ACK after saving');
    expect(closed).toBe(false);
    // The new QC rule applies to the next message on the same connection.
    const qcOf = (controlId: string) =>
      storedMessages(store, 'h')
        .find((m) => m.controlId === controlId)!
        .results.map((r) => r.qc);
    expect(qcOf('BEFORE1')).toEqual([false]);
    expect(qcOf('AFTER1')).toEqual([true]);
    const logged = events.flatMap((e) => (e.type === 'log' ? [e.entry.message] : []));
    expect(logged).toContain(
      'settings changed (name, QC rules, silence alarm and test-code mapping); applied without reconnecting',
    );
    expect(logged.some((m) => m.includes('stopped'))).toBe(false);

    const moved = await gateway.updateInstrument(
      instrumentConfigSchema.parse({ ...input, name: 'Chemistry 2', port: newPort }),
    );
    expect(moved.reconnect).toEqual(['port']);
    await waitFor(() => closed, 'the old connection closed');
    await waitFor(() => gateway.status('h')?.state === 'listening', 'listening on the new port');
    expect(gateway.status('h')!.port).toBe(newPort);
    socket.destroy();
  });
});

describe('alarms', () => {
  it('says how long an analyzer was silent in plain units, and an acknowledged alarm is cleared and logged', async () => {
    const temp = tempDir();
    const store = openStore({ file: path.join(temp.dir, 'g.sqlite'), durability: 'normal' });
    const clock = new FakeClock();
    const gateway = new Gateway({ store, clock, silenceCheckEveryMs: 15_000 });
    const events: GatewayEvent[] = [];
    gateway.subscribe((event) => events.push(event));
    cleanups.push(async () => {
      await gateway.close(1_000);
      temp.remove();
    });
    const port = await freePort();
    gateway.start([
      instrumentConfigSchema.parse({
        id: 's',
        protocol: 'hl7',
        mode: 'server',
        port,
        silence: { afterMs: 30_000 },
      }),
    ]);
    const logged = () => events.flatMap((e) => (e.type === 'log' ? [e.entry.message] : []));
    clock.advance(30_000);
    expect(gateway.status('s')!.silent).toBe(true);
    expect(logged()).toContain('no message for 30 s while traffic is expected');

    gateway.acknowledgeAlarms('s');
    expect(gateway.status('s')!.silent).toBe(false);
    expect(logged()).toContain('acknowledged: silence alarm');
    clock.advance(15_000);
    expect(gateway.status('s')!.silent).toBe(false); // counted again from the acknowledgement
    clock.advance(30_000);
    expect(gateway.status('s')!.silent).toBe(true);
  });
});

describe('storage housekeeping', () => {
  it('logs a crashed checkpoint thread as a storage error that lost nothing', async () => {
    const { store, events } = startGateway([]);
    const hooks = storeTestHooks(store);
    // The thread starts with the first checkpoint due after a write.
    store.insertMessages([hl7Message(1)]);
    await waitFor(() => hooks.checkpointsOnThread(), 'the checkpoint thread to start');
    await hooks.killCheckpointThread();
    const logged = events.flatMap((e) =>
      e.type === 'log' && e.entry.kind === 'storage' ? [e.entry] : [],
    );
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', code: 'STORE_WRITE_FAILED' });
    expect(logged[0]!.message).toMatch(/^could not checkpoint the database on its own thread/);
    expect(logged[0]!.message).not.toMatch(/log lines/);
  });
});
