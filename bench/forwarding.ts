/**
 * `npm run bench -- forwarding`: what forwarding costs the analyzers, and how fast the outbox
 * drains. Part one: a gateway in this process with one HL7 server instrument; simulated analyzers
 * send ORU^R01 messages and time each ACK, with no destination, then with an MLLP LIS that is
 * healthy, dead (nothing listening) and slow (50 ms per answer): same messages, same run, each on
 * a fresh database. Part two: an outbox of N stored messages drained to python-hl7's asyncio MLLP
 * server (window 1, then 8), against the same LIS fed the same ORU texts by a bare MLLP client that
 * waits for each ACK (the raw ping-pong).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { destinationConfigSchema, parseGatewayConfig } from '../src-shared/config';
import { createGatewayRuntime } from '../src-main/app';
import { Forwarder } from '../src-main/forwarding/forwarder';
import { buildPayload } from '../src-main/forwarding/payloads';
import { frameMllp, MllpFramer } from '../src-main/protocols/hl7/mllp';
import { runSimulator } from '../src-main/simulator/simulator';
import { openStore, type Store } from '../src-main/store/store';
import { systemClock } from '../src-main/system-clock';
import { loadNote } from './servers/child';
import { fmt, percentile, type Row, type Suite } from './support';

const LIS_SCRIPT = path.resolve(import.meta.dirname, '../test/forwarding/mllp-lis.py');
const PYTHON = '/usr/bin/python3';

interface Lis {
  port: number;
  received: () => number;
  stop(): Promise<void>;
}

function startLis(delayMs = 0): Promise<Lis> {
  const args = [LIS_SCRIPT, ...(delayMs > 0 ? ['--delay-ms', String(delayMs)] : [])];
  const child: ChildProcess = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let received = 0;
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    child.once('exit', (code) => reject(new Error(`the LIS exited (${code})`)));
    lines.on('line', (line) => {
      if (line.startsWith('{"port"')) {
        resolve({
          port: (JSON.parse(line) as { port: number }).port,
          received: () => received,
          stop: () =>
            new Promise<void>((done) => {
              child.removeAllListeners('exit');
              child.once('exit', () => done());
              child.stdin!.end();
              setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
            }),
        });
      } else {
        received++;
      }
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface AckFigures {
  p50: number;
  p99: number;
  perSecond: number;
}

/** Analyzers against a gateway forwarding to `lisPort` (null: no destination). */
async function ackScenario(
  lisPort: number | null,
  messages: number,
  concurrency: number,
): Promise<AckFigures> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-forward-bench-'));
  try {
    const port = await freePort();
    const parsed = parseGatewayConfig({
      instruments: [
        {
          id: 'hema1',
          protocol: 'hl7',
          mode: 'server',
          port,
          maxConnections: concurrency,
          forwardTo: lisPort === null ? [] : ['lis'],
        },
      ],
      destinations:
        lisPort === null
          ? []
          : [{ id: 'lis', type: 'hl7', host: '127.0.0.1', port: lisPort, ackTimeoutMs: 5_000 }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const runtime = createGatewayRuntime({
      config: parsed.config,
      dbFile: path.join(work, 'gw.sqlite'),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const summary = await runSimulator({
        protocol: 'hl7',
        target: { connect: { host: '127.0.0.1', port } },
        messages,
        results: 10,
        concurrency,
        ackTimeoutMs: 30_000,
      });
      if (summary.acked !== messages)
        throw new Error(`only ${summary.acked} of ${messages} acknowledged`);
      return {
        p50: percentile(summary.latencies, 50),
        p99: percentile(summary.latencies, 99),
        perSecond: summary.acked / (summary.elapsedMs / 1000),
      };
    } finally {
      await runtime.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A store holding `count` messages, each with an outbox entry for `lis`. */
function filledStore(file: string, count: number): Store {
  const store = openStore({ file, durability: 'normal' });
  const batch = [];
  for (let n = 0; n < count; n++) {
    const sampleId = `S${String(n).padStart(8, '0')}`;
    const results = Array.from({ length: 10 }, (_, i) => ({
      sampleId,
      patientId: `P${n % 5000}`,
      testCode: `T${i}`,
      value: String(4 + (n % 7) / 10),
      units: 'mmol/L',
      flags: 'N',
      status: 'F',
      observedAt: '2026-11-26T08:00:00',
    }));
    batch.push({
      instrumentId: 'hema1',
      protocol: 'astm' as const,
      direction: 'in' as const,
      receivedAt: Date.now(),
      text: `H|\\^&\rO|1|${sampleId}\rL|1|N`,
      raw: Buffer.from(`H|\\^&\rO|1|${sampleId}\rL|1|N`),
      status: 'stored',
      errors: [],
      results,
      outbox: [{ destinationId: 'lis', scope: 'patient' as const }],
    });
    if (batch.length === 500) store.insertMessages(batch.splice(0));
  }
  if (batch.length > 0) store.insertMessages(batch);
  return store;
}

/** Drains the outbox to the LIS; messages per second. */
async function drain(lis: Lis, count: number, window: number): Promise<number> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-drain-bench-'));
  try {
    const store = filledStore(path.join(work, 'gw.sqlite'), count);
    const before = lis.received();
    const forwarder = new Forwarder({
      store,
      clock: systemClock,
      instrument: () => null,
      log: () => undefined,
    });
    const start = performance.now();
    forwarder.start([
      destinationConfigSchema.parse({
        id: 'lis',
        type: 'hl7',
        host: '127.0.0.1',
        port: lis.port,
        window,
      }),
    ]);
    while (lis.received() - before < count) await new Promise((resolve) => setTimeout(resolve, 5));
    const elapsed = performance.now() - start;
    await forwarder.close();
    const undelivered = store.listOutbox({ state: 'pending', limit: 1 }).length;
    store.close();
    if (undelivered > 0) throw new Error('entries left pending after the drain');
    return count / (elapsed / 1000);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The same ORU texts sent by a bare MLLP client, one at a time, each waiting for its ACK. */
async function pingPong(lis: Lis, count: number): Promise<number> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-pingpong-bench-'));
  try {
    const store = filledStore(path.join(work, 'gw.sqlite'), count);
    const config = destinationConfigSchema.parse({
      id: 'lis',
      type: 'hl7',
      host: '127.0.0.1',
      port: lis.port,
    });
    const texts = store
      .pendingDeliveries('lis', 0, count)
      .map((item) =>
        frameMllp(Buffer.from(buildPayload(item, config, null, Date.now()).text, 'utf8')),
      );
    store.close();
    const socket = net.connect(lis.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const framer = new MllpFramer({});
    let waiting: (() => void) | null = null;
    socket.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) if (item.kind === 'message') waiting?.();
    });
    const start = performance.now();
    for (const bytes of texts) {
      await new Promise<void>((resolve) => {
        waiting = resolve;
        socket.write(bytes);
      });
    }
    const elapsed = performance.now() - start;
    socket.destroy();
    return count / (elapsed / 1000);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const forwardingSuite: Suite = async ({ quick }) => {
  const load = os.loadavg()[0]!;
  const messages = quick ? 200 : 3_000;
  const concurrency = 4;
  const drainCount = quick ? 300 : 5_000;
  const rows: Row[] = [];
  const healthy = await startLis();
  const slow = await startLis(50);
  const deadPort = await freePort();
  try {
    const ack = async (name: string, port: number | null) => {
      const figures = await ackScenario(port, messages, concurrency);
      rows.push({
        name: `ACK path, LIS ${name}`,
        'ACK p50 ms': fmt(figures.p50, 2),
        'ACK p99 ms': fmt(figures.p99, 2),
        'messages/s': fmt(figures.perSecond),
      });
      return figures;
    };
    const none = await ack('none (no destination)', null);
    const withHealthy = await ack('healthy', healthy.port);
    const withDead = await ack('dead (nothing listening)', deadPort);
    const withSlow = await ack('slow (50 ms per ACK)', slow.port);
    const raw = await pingPong(healthy, drainCount);
    const drain1 = await drain(healthy, drainCount, 1);
    const drain8 = await drain(healthy, drainCount, 8);
    rows.push({
      name: 'raw MLLP ping-pong to the LIS',
      'ACK p50 ms': '',
      'ACK p99 ms': '',
      'messages/s': fmt(raw),
    });
    rows.push({
      name: 'outbox drain, window 1',
      'ACK p50 ms': '',
      'ACK p99 ms': '',
      'messages/s': fmt(drain1),
    });
    rows.push({
      name: 'outbox drain, window 8',
      'ACK p50 ms': '',
      'ACK p99 ms': '',
      'messages/s': fmt(drain8),
    });
    const vs = (f: AckFigures, name: string) =>
      `${name}: ACK p50 ${(f.p50 / none.p50).toFixed(2)}×, p99 ${(f.p99 / none.p99).toFixed(2)}×, throughput ${(f.perSecond / none.perSecond).toFixed(2)}× of no destination (goal: within 10 %)`;
    return {
      title: 'Forwarding to the LIS',
      method:
        `Part one: ${fmt(messages)} HL7 ORU^R01 messages of 10 results from ${concurrency} simulated analyzers to a gateway in this process (full durability), each ACK timed; ` +
        'with no destination, then forwarding every message to an MLLP LIS (python-hl7 asyncio) that is healthy, dead (nothing listening) or slow (50 ms per answer), each on a fresh database in the same run. ' +
        `Part two: an outbox of ${fmt(drainCount)} stored messages drained to the healthy LIS, against a bare MLLP client sending the same ORU texts to the same LIS, each waiting for its ACK. ${loadNote(load)}`,
      rows,
      ratios: [
        vs(withHealthy, 'healthy LIS'),
        vs(withDead, 'dead LIS'),
        vs(withSlow, 'slow LIS'),
        `outbox drain / raw ping-pong: window 1 ${(drain1 / raw).toFixed(2)}×, window 8 ${(drain8 / raw).toFixed(2)}×`,
      ],
    };
  } finally {
    await healthy.stop();
    await slow.stop();
  }
};
