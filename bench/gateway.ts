/**
 * `npm run bench -- gateway`: messages per second through the real gateway (server links,
 * persist before ACK, a real SQLite file) over loopback TCP, next to plain ping-pong servers
 * measured in the same run: the ceiling for a send-and-wait protocol, and the ceiling for an
 * answer that waits for one fdatasync.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Session } from 'node:inspector';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { instrumentConfigSchema } from '../src-shared/config';
import { Gateway } from '../src-main/gateway/gateway';
import { createEventLogger } from '../src-main/headless/log';
import { frameMllp } from '../src-main/protocols/hl7/mllp';
import { openStore, type Store } from '../src-main/store/store';
import type { LoadCommand, LoadReply, LoadResult, LoadSpec } from './load';
import { astmPingPong, mllpPingPong, type PingPongServer } from './pingpong';
import { fmt, type Row, type Suite, type SuiteReport } from './support';

const HL7_RESULTS = 20;
const ASTM_RESULTS = 10;
/** The small ORU of the comparison with python-hl7. */
const FEW_RESULTS = 3;
const MANY = 50;

/** An answer shaped like the gateway's own (enhanced mode: MSH-15 AL asks for a commit ACK). */
const PING_PONG_ACK = frameMllp(
  Buffer.from(
    'MSH|^~\\&|LIS|LAB|LABGW-SIM|BENCH|20260115093000||ACK^R01^ACK|LGMKZ3F0K1000001|P|2.5.1|||NE|NE||UNICODE UTF-8\r' +
      'MSA|CA|AA00000001\r',
    'latin1',
  ),
);

interface Measured {
  load: LoadResult;
  /** CPU time of this process (the server side) during the timed part. */
  serverCpuMs: number;
  peakRssBytes: number;
  /** 99th percentile of the server's event-loop delay while timed, in ms. */
  loopLagP99Ms: number;
  /** Write-ahead log bytes the store appended while timed (gateway rows only). */
  walBytes?: number;
  /** Database file after a full checkpoint, per message stored in the row (gateway rows only). */
  dbBytesPerMessage?: number;
}

function cpuMs(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1000;
}

/** The sending side, in a child process of its own for the whole suite. */
class LoadProcess {
  private waiting: ((reply: LoadReply) => void) | null = null;
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: LoadReply) => this.waiting?.(reply));
    child.on('exit', (code) => {
      this.exited = true;
      this.waiting?.({ type: 'failed', error: `the load process exited (code ${code})` });
    });
  }

  static async start(): Promise<LoadProcess> {
    // fork() passes this process's execArgv on, so the child runs TypeScript the same way.
    const child = fork(new URL('./load.ts', import.meta.url), { stdio: 'inherit' });
    const load = new LoadProcess(child);
    const first = await load.next();
    if (first.type !== 'ready') throw new Error(`the load process did not start: ${first.type}`);
    return load;
  }

  /** Runs one phase; `onMeasuring` is called when its timed part starts. */
  async run(spec: LoadSpec, onMeasuring: () => void): Promise<LoadResult> {
    const timer = setTimeout(() => this.child.kill(), spec.warmupMs + spec.durationMs + 60_000);
    try {
      const pending = this.next();
      this.send({ cmd: 'run', spec });
      let reply = await pending;
      if (reply.type === 'measuring') {
        onMeasuring();
        reply = await this.next();
      }
      if (reply.type !== 'done') {
        const why = reply.type === 'failed' ? reply.error : reply.type;
        throw new Error(`load phase ${spec.tag} failed: ${why}`);
      }
      return reply.result;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ cmd: 'exit' });
    const timer = setTimeout(() => this.child.kill(), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private send(command: LoadCommand): void {
    this.child.send(command);
  }

  private next(): Promise<LoadReply> {
    if (this.exited) return Promise.resolve({ type: 'failed', error: 'the load process exited' });
    return new Promise((resolve) => {
      this.waiting = (reply) => {
        this.waiting = null;
        resolve(reply);
      };
    });
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * BENCH_CPU_PROFILE=dir writes a V8 CPU profile of this process's timed part of every row there
 * (`<tag>-<kind>-<results>r-<connections>c.cpuprofile`, readable in Chrome DevTools), for finding where the server's CPU goes.
 */
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;

function startProfile(): Session {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
  return session;
}

function stopProfile(session: Session, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    session.post('Profiler.stop', (error, result) => {
      session.disconnect();
      if (error) reject(error);
      else {
        writeFileSync(file, JSON.stringify(result.profile));
        resolve();
      }
    });
  });
}

/** Runs a phase against a server in this process, measuring this process while it is timed. */
async function measure(load: LoadProcess, spec: LoadSpec, store?: Store): Promise<Measured> {
  let profile: Session | undefined;
  let cpuAtStart = NaN;
  let walAtStart = 0;
  let peak = 0;
  const sample = () => {
    if (!Number.isNaN(cpuAtStart)) peak = Math.max(peak, process.memoryUsage.rss());
  };
  const sampler = setInterval(sample, 20);
  // How long a turn of the event loop keeps every connection waiting (checkpoints, side work).
  const lag = monitorEventLoopDelay({ resolution: 1 });
  try {
    const result = await load.run(spec, () => {
      cpuAtStart = cpuMs();
      walAtStart = store?.metrics().walBytes ?? 0;
      lag.enable();
      sample();
      if (PROFILE_DIR) profile = startProfile();
    });
    lag.disable();
    const serverCpuMs = cpuMs() - cpuAtStart;
    if (profile)
      await stopProfile(
        profile,
        path.join(
          PROFILE_DIR!,
          `${spec.tag}-${spec.kind}-${spec.results}r-${spec.connections}c.cpuprofile`,
        ),
      );
    const walBytes = store ? store.metrics().walBytes - walAtStart : undefined;
    sample();
    const loopLagP99Ms = lag.count > 0 ? lag.percentile(99) / 1e6 : NaN;
    return { load: result, serverCpuMs, peakRssBytes: peak, loopLagP99Ms, walBytes };
  } finally {
    lag.disable();
    clearInterval(sampler);
  }
}

/**
 * The store with its writes replaced by nothing: every message "committed" at once. For the
 * diagnostic row that shows what the gateway costs without SQLite.
 */
function storageStub(store: Store): Store {
  let id = 0;
  return Object.create(store, {
    enqueue: { value: () => Promise.resolve({ id: ++id, duplicate: false }) },
    enqueueEvent: { value: () => true },
    enqueueTrace: { value: () => true },
  }) as Store;
}

interface GatewaySetup {
  protocol: 'hl7' | 'astm';
  durability: 'full' | 'normal';
  senders: number;
  /** Listen as `serve` does: its event log, a line per stored message, written to a file. */
  serveLog?: boolean;
  stubStorage?: boolean;
  /** More than `senders` when the sender reconnects: the old connection may not be gone yet. */
  maxConnections?: number;
  /** False: checkpoints on the event loop, as without the checkpoint thread. */
  checkpointThread?: boolean;
}

/** A fresh gateway and database for one phase; checks afterwards that every ACK was a stored message. */
async function throughGateway(
  work: string,
  setup: GatewaySetup,
  drive: (port: number, store?: Store) => Promise<Measured>,
): Promise<Measured> {
  const dir = mkdtempSync(path.join(work, 'gateway-'));
  const store = openStore({
    file: path.join(dir, 'bench.sqlite'),
    durability: setup.durability,
    ...(setup.checkpointThread === false ? { checkpointThread: false } : {}),
  });
  const gateway = new Gateway({ store: setup.stubStorage ? storageStub(store) : store });
  const log = setup.serveLog ? openSync(path.join(dir, 'serve.log'), 'a') : null;
  if (log !== null)
    gateway.subscribe(createEventLogger('text', (line) => writeSync(log, `${line}\n`)));
  try {
    const port = await freePort();
    gateway.start([
      instrumentConfigSchema.parse({
        id: 'bench',
        protocol: setup.protocol,
        mode: 'server',
        port,
        maxConnections: setup.maxConnections ?? setup.senders,
      }),
    ]);
    await until(() => gateway.status('bench')?.state === 'listening', 'the gateway to listen');
    const measured = await drive(port, setup.stubStorage ? undefined : store);
    const stored = store.metrics().messagesStored;
    if (!setup.stubStorage && stored < measured.load.ackedTotal) {
      throw new Error(`${measured.load.ackedTotal} messages acknowledged but ${stored} stored`);
    }
    if (!setup.stubStorage && stored > 0) {
      store.flush();
      store.checkpoint('truncate');
      measured.dbBytesPerMessage = store.fileSize() / stored;
    }
    return measured;
  } finally {
    await gateway.close();
    if (log !== null) closeSync(log);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function throughPingPong(
  starting: Promise<PingPongServer>,
  drive: (port: number) => Promise<Measured>,
): Promise<Measured> {
  const server = await starting;
  try {
    return await drive(server.port);
  } finally {
    await server.close();
  }
}

interface Phase {
  key: string;
  /** Run only when named with --only (a comparison, not part of the suite's table). */
  optional?: boolean;
  name: string;
  senders: number;
  run: (tag: string) => Promise<Measured>;
}

function perSecond(m: Measured): number {
  return (m.load.messages / m.load.elapsedMs) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Numbers that crossed the IPC channel as JSON (NaN arrives as null). */
function num(value: number | null, digits = 0): string {
  return typeof value === 'number' && Number.isFinite(value) ? fmt(value, digits) : '-';
}

export const gatewaySuite: Suite = async ({ quick, only }) => {
  const rounds = quick ? 1 : 3;
  const timing = quick ? { warmupMs: 20, durationMs: 60 } : { warmupMs: 600, durationMs: 2_500 };
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-bench-'));
  const load = await LoadProcess.start().catch((error: unknown) => {
    rmSync(work, { recursive: true, force: true });
    throw error;
  });
  const hl7 = (tag: string, connections: number) => ({
    kind: 'hl7' as const,
    results: HL7_RESULTS,
    tag,
    connections,
    ...timing,
  });
  const astm = (tag: string) => ({
    kind: 'astm' as const,
    results: ASTM_RESULTS,
    tag,
    connections: 1,
    ...timing,
  });
  let files = 0;
  const syncFile = () => path.join(work, `sync-${files++}.log`);
  const pingPong = (durability: 'none' | 'each' | 'group', senders: number) => (tag: string) =>
    throughPingPong(
      durability === 'none'
        ? mllpPingPong(PING_PONG_ACK, { kind: 'none' })
        : mllpPingPong(PING_PONG_ACK, { kind: durability, file: syncFile() }),
      (port) => measure(load, { ...hl7(tag, senders), port }),
    );
  const gateway = (setup: GatewaySetup) => (tag: string) =>
    throughGateway(work, setup, (port, store) =>
      measure(
        load,
        { ...(setup.protocol === 'hl7' ? hl7(tag, setup.senders) : astm(tag)), port },
        store,
      ),
    );
  /** The NORMAL sequential rate of the current round, to size the simulator's run. */
  let normalRate = 100;

  const phases: Phase[] = [
    { key: 'raw', name: 'HL7 ping-pong, raw loopback', senders: 1, run: pingPong('none', 1) },
    {
      key: 'sync',
      name: 'HL7 ping-pong, fdatasync per message',
      senders: 1,
      run: pingPong('each', 1),
    },
    {
      key: 'syncMany',
      name: 'HL7 ping-pong, fdatasync per message',
      senders: MANY,
      run: pingPong('each', MANY),
    },
    {
      key: 'group',
      name: 'HL7 ping-pong, one fdatasync per event-loop turn',
      senders: MANY,
      run: pingPong('group', MANY),
    },
    {
      key: 'full',
      name: 'HL7 gateway, FULL',
      senders: 1,
      run: gateway({ protocol: 'hl7', durability: 'full', senders: 1 }),
    },
    {
      key: 'full3',
      name: `HL7 gateway, FULL, ORU^R01 with ${FEW_RESULTS} OBX`,
      senders: 1,
      run: (tag) =>
        throughGateway(work, { protocol: 'hl7', durability: 'full', senders: 1 }, (port, store) =>
          measure(load, { ...hl7(tag, 1), results: FEW_RESULTS, port }, store),
        ),
    },
    {
      key: 'fullLog',
      name: "HL7 gateway, FULL, with serve's event log (a line per message, to a file)",
      senders: 1,
      run: gateway({ protocol: 'hl7', durability: 'full', senders: 1, serveLog: true }),
    },
    {
      key: 'fullMany',
      name: 'HL7 gateway, FULL',
      senders: MANY,
      run: gateway({ protocol: 'hl7', durability: 'full', senders: MANY }),
    },
    {
      key: 'fullManyInline',
      optional: true,
      name: 'HL7 gateway, FULL, checkpoints on the event loop',
      senders: MANY,
      run: gateway({ protocol: 'hl7', durability: 'full', senders: MANY, checkpointThread: false }),
    },
    {
      key: 'normal',
      name: 'HL7 gateway, NORMAL',
      senders: 1,
      run: async (tag) => {
        const measured = await gateway({ protocol: 'hl7', durability: 'normal', senders: 1 })(tag);
        normalRate = perSecond(measured);
        return measured;
      },
    },
    {
      key: 'normalMany',
      name: 'HL7 gateway, NORMAL',
      senders: MANY,
      run: gateway({ protocol: 'hl7', durability: 'normal', senders: MANY }),
    },
    {
      key: 'stub',
      name: 'HL7 gateway, storage stubbed out (diagnostic)',
      senders: 1,
      run: gateway({ protocol: 'hl7', durability: 'normal', senders: 1, stubStorage: true }),
    },
    {
      key: 'simulator',
      name: 'HL7 gateway, NORMAL, sent by runSimulator',
      senders: 1,
      run: (tag) =>
        // runSimulator connects anew for the timed part, right after the warm-up's connection.
        throughGateway(
          work,
          { protocol: 'hl7', durability: 'normal', senders: 1, maxConnections: 2 },
          (port) =>
            measure(load, {
              ...hl7(tag, 1),
              kind: 'hl7-simulator',
              port,
              messages: Math.max(20, Math.round((normalRate * timing.durationMs) / 1000)),
            }),
        ),
    },
    {
      key: 'astmRaw',
      name: 'ASTM ping-pong, raw loopback (ACK per ENQ and frame)',
      senders: 1,
      run: (tag) =>
        throughPingPong(astmPingPong(), (port) => measure(load, { ...astm(tag), port })),
    },
    {
      key: 'astmFull',
      name: 'ASTM gateway, FULL',
      senders: 1,
      run: gateway({ protocol: 'astm', durability: 'full', senders: 1 }),
    },
    {
      key: 'astmNormal',
      name: 'ASTM gateway, NORMAL',
      senders: 1,
      run: gateway({ protocol: 'astm', durability: 'normal', senders: 1 }),
    },
  ];
  const selected = only
    ? phases.filter((phase) => only.includes(phase.key))
    : phases.filter((phase) => !phase.optional);
  if (only && selected.length === 0) {
    throw new Error(
      `no gateway rows named ${only.join(', ')}: ${phases.map((p) => p.key).join(', ')}`,
    );
  }

  try {
    // Rounds interleave every row, so that a change in the machine's load between rows shows
    // up as spread instead of as a difference between them.
    const byRound: Map<string, Measured>[] = [];
    let tags = 0;
    for (let round = 0; round < rounds; round++) {
      const results = new Map<string, Measured>();
      for (const phase of selected) {
        const tag = (tags++).toString(36).toUpperCase().padStart(2, '0');
        results.set(phase.key, await phase.run(tag));
      }
      byRound.push(results);
    }
    return report(selected, byRound, timing, rounds, only !== undefined);
  } finally {
    await load.close();
    rmSync(work, { recursive: true, force: true });
  }
};

function report(
  phases: Phase[],
  byRound: Map<string, Measured>[],
  timing: { warmupMs: number; durationMs: number },
  rounds: number,
  partial: boolean,
): SuiteReport {
  const runs = (key: string) => byRound.map((round) => round.get(key)!);
  /** The round with the median rate stands for the row; the spread shows the others. */
  const typical = (key: string): Measured => {
    const sorted = runs(key).sort((a, b) => perSecond(a) - perSecond(b));
    return sorted[(sorted.length - 1) >> 1]!;
  };
  const rows: Row[] = phases.map((phase) => {
    const m = typical(phase.key);
    const rates = runs(phase.key).map(perSecond);
    const n = Math.max(1, m.load.messages);
    return {
      name: phase.name,
      senders: phase.senders,
      'messages/s': fmt(perSecond(m)),
      'rounds min–max': rounds > 1 ? `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}` : '-',
      'p50 ms': num(m.load.p50Ms, 2),
      'p99 ms': num(m.load.p99Ms, 2),
      'server CPU µs/msg': fmt((m.serverCpuMs * 1000) / n),
      'server CPU': `${fmt((m.serverCpuMs / m.load.elapsedMs) * 100)} %`,
      'sender CPU µs/msg': fmt((m.load.cpuMs * 1000) / n),
      'loop lag p99 ms': num(m.loopLagP99Ms, 1),
      'peak RSS MiB': fmt(Math.max(...runs(phase.key).map((r) => r.peakRssBytes)) / 2 ** 20),
      'WAL KiB/msg': m.walBytes === undefined ? '-' : fmt(m.walBytes / n / 1024, 1),
      'DB KiB/msg': m.dbBytesPerMessage === undefined ? '-' : fmt(m.dbBytesPerMessage / 1024, 1),
      failed: runs(phase.key).reduce((sum, r) => sum + r.load.failed, 0),
    };
  });

  if (partial) {
    const method = `Rows ${phases.map((p) => p.key).join(', ')} of the gateway suite only.`;
    return { title: 'Gateway throughput (persist before ACK)', method, rows, ratios: [] };
  }

  /** Median over rounds of a ratio taken within each round. */
  const ratioOf = (a: string, b: string, value = perSecond) => {
    const each = byRound.map((round) => value(round.get(a)!) / value(round.get(b)!));
    const shown = rounds > 1 ? ` (per round ${each.map((r) => r.toFixed(2)).join(', ')})` : '';
    return { value: median(each), text: `${median(each).toFixed(2)}×${shown}` };
  };
  const goal = (what: string, a: string, b: string, target: number) => {
    const r = ratioOf(a, b);
    return `${what} = ${r.text}; goal ≥ ${target}×: ${r.value >= target ? 'met' : 'missed'}`;
  };
  const cpuPerMessage = (m: Measured) => m.load.cpuMs / Math.max(1, m.load.messages);
  const serverCpuUs = (key: string) => {
    const m = typical(key);
    return (m.serverCpuMs * 1000) / Math.max(1, m.load.messages);
  };
  /** WAL bytes per message against the message's own bytes on the wire. */
  const walPerBytes = (key: string) => {
    const m = typical(key);
    return (m.walBytes ?? NaN) / Math.max(1, m.load.messages) / m.load.bytesPerMessage;
  };
  const walLine = (label: string, key: string) => {
    const r = walPerBytes(key);
    return `${label}: WAL bytes per message / the message's bytes = ${r.toFixed(1)}×; goal ≤ 4×: ${r <= 4 ? 'met' : 'missed'}`;
  };
  const ratios = [
    `Server CPU per stored message, HL7 FULL, 1 sender: ${fmt(serverCpuUs('full'))} µs ` +
      `(${HL7_RESULTS} OBX), ${fmt(serverCpuUs('full3'))} µs (${FEW_RESULTS} OBX), ` +
      `${fmt(serverCpuUs('fullMany'))} µs (${HL7_RESULTS} OBX, ${MANY} senders); goal ≤ 300 µs`,
    `HL7 FULL, 1 sender, with serve's event log: ${fmt(serverCpuUs('fullLog'))} µs of server ` +
      `CPU per message (without: ${fmt(serverCpuUs('full'))} µs)`,
    walLine(`HL7 FULL, 1 sender, ${HL7_RESULTS} OBX`, 'full'),
    walLine(`HL7 FULL, 1 sender, ${FEW_RESULTS} OBX`, 'full3'),
    walLine(`HL7 FULL, ${MANY} senders`, 'fullMany'),
    goal('HL7 sequential FULL / fdatasync ping-pong', 'full', 'sync', 0.8),
    goal('HL7 sequential NORMAL / raw ping-pong', 'normal', 'raw', 0.5),
    goal(`HL7 ${MANY} senders FULL / sequential FULL`, 'fullMany', 'full', 8),
    `HL7 ${MANY} senders FULL / one-fdatasync-per-turn ping-pong (${MANY} clients) = ` +
      `${ratioOf('fullMany', 'group').text}; ${MANY} senders NORMAL / sequential NORMAL = ` +
      `${ratioOf('normalMany', 'normal').text}`,
    `HL7 sequential NORMAL / the same gateway with storage stubbed out = ` +
      `${ratioOf('normal', 'stub').text}; stubbed gateway / raw ping-pong = ${ratioOf('stub', 'raw').text}`,
    `ASTM sequential FULL / ASTM raw ping-pong = ${ratioOf('astmFull', 'astmRaw').text}; ` +
      `NORMAL / raw ping-pong = ${ratioOf('astmNormal', 'astmRaw').text}`,
    `runSimulator as the sender / the lean sender (gateway NORMAL, 1 sender): messages/s ` +
      `${ratioOf('simulator', 'normal').text}, sender CPU per message ` +
      `${ratioOf('simulator', 'normal', cpuPerMessage).text}`,
  ];

  for (const phase of phases) {
    for (const [round, results] of byRound.entries()) {
      const { failed, firstError } = results.get(phase.key)!.load;
      if (failed > 0) {
        ratios.push(
          `${phase.name} (round ${round + 1}): ${failed} not acknowledged, first: ${firstError}`,
        );
      }
    }
  }

  const full = typical('full').load;
  const astmFull = typical('astmFull').load;
  const simulated = typical('simulator').load;
  const method =
    `Loopback TCP on one machine. The gateway runs in the benchmark process as \`serve\` ` +
    `composes it: \`new Gateway({ store: openStore({ file, durability }) })\` with one HL7 or ` +
    `ASTM server link (maxConnections ${MANY} for the ${MANY}-sender rows) and default ` +
    `settings (WAL, session trace on, group commit), with a fresh SQLite file in a temporary ` +
    `directory for every row. The senders run in a child process (so their CPU time is not ` +
    `the server's) and are lean: each connection sends one message, waits for its answer (HL7: ` +
    `an MLLP block with MSA CA, the commit ACK that MSH-15 AL asks for; ASTM: an ACK to the ENQ ` +
    `and to each frame, then EOT) and sends ` +
    `the next. HL7 messages are ORU^R01 with ${HL7_RESULTS} OBX, ` +
    `${fmt(full.bytesPerMessage)} bytes framed, each with a unique control ID (the gateway's ` +
    `ACKs were ${fmt(full.answerBytes)} bytes); ASTM messages are H, P, O, ${ASTM_RESULTS} R, ` +
    `L: ${fmt(astmFull.bytesPerMessage)} bytes in 14 frames plus ENQ and EOT, each with a ` +
    `unique specimen ID. Baselines, driven by the same senders in the same run: a plain ` +
    `\`net\` server answering each HL7 message with an ACK-sized block ` +
    `(${PING_PONG_ACK.length} bytes) at once; or after appending what it received to a file ` +
    `and one \`fs.fdatasyncSync\` per message; or, with ${MANY} clients, after one fdatasync ` +
    `for all messages completed in the same event-loop turn (the group-commit ceiling); and ` +
    `for ASTM a server that ACKs each ENQ and frame at once. The diagnostic row replaces the ` +
    `store's writes by a stub that succeeds at once: the gateway without SQLite, not a ` +
    `configuration anyone runs. The runSimulator row drives the gateway with the project's ` +
    `simulator instead of the lean sender (its own ORU^R01 with ${HL7_RESULTS} results, ` +
    `${num(simulated.bytesPerMessage)} bytes). Each row: ${fmt(timing.warmupMs)} ms warm-up, ` +
    `then ${fmt(timing.durationMs)} ms timed, repeated in ${rounds} round(s) that run every ` +
    `row in turn; a row shows its median round (its spread in "rounds min–max"), a ratio is ` +
    `the median of the ratios taken within each round. messages/s counts acknowledged ` +
    `messages sent in the timed part; latency is send → ACK as the sender sees it (ASTM: ENQ ` +
    `→ ACK of the last frame); server CPU is this process's user + system time while timed ` +
    `(% of one core); loop lag p99 is the 99th percentile of this process's event-loop delay ` +
    `while timed (perf_hooks.monitorEventLoopDelay, 1 ms resolution): how long one turn of the ` +
    `loop (a commit, side work, a checkpoint) keeps every connection waiting; ` +
    `peak RSS is this process (server plus harness), sampled every 20 ms, ` +
    `highest of the rounds. WAL KiB/msg is what the store appended to its write-ahead log while ` +
    `timed (every transaction: messages, events, trace, search index; read from the WAL ` +
    `index's frame count) per acknowledged message; DB KiB/msg is the database file after a ` +
    `full checkpoint at the end of the row, per message stored in it (session trace included). ` +
    `After every gateway row the store is checked to hold every acknowledged message. The row ` +
    `with serve's event log subscribes the text logger \`serve\` uses (a line per stored ` +
    `message; serve writes them to stderr) and writes its lines to a file, one write each.`;

  return { title: 'Gateway throughput (persist before ACK)', method, rows, ratios };
}
