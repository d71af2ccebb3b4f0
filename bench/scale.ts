/**
 * `npm run bench -- scale`: many instruments at once in one gateway — half of them analyzers
 * connecting to its server links, half analyzers its client links connect to — each sending one
 * message a second. Is every message stored, how late are the ACKs, how much memory does the
 * gateway hold, and how late does its event loop run?
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore } from '../src-main/store/store';
import type {
  AnalyzerOutcome,
  AnalyzerPlan,
  AnalyzersCommand,
  AnalyzersReply,
} from './servers/analyzers';
import {
  Channel,
  cpuMsOf,
  freePorts,
  linkStates,
  loadNote,
  memoryOf,
  residentOf,
  script,
  startServe,
  type ServerProcess,
} from './servers/child';
import type { ProbeCommand, ProbeReport } from './servers/serve-probe';
import { fmt, percentile, type Row, type Suite } from './support';

const RESULTS = 10;
const INTERVAL_MS = 1_000;
const RSS_GOAL = 250e6;
const LAG_GOAL_MS = 50;

interface Plan {
  id: string;
  protocol: 'astm' | 'hl7';
  mode: 'server' | 'client';
  port: number;
}

/** Instruments of each kind, in the order they are numbered. */
function plans(perKind: number): Plan[] {
  const out: Plan[] = [];
  for (const mode of ['server', 'client'] as const) {
    for (const protocol of ['hl7', 'astm'] as const) {
      for (let i = 1; i <= perKind; i++) {
        out.push({
          id: `${mode}-${protocol}-${String(i).padStart(3, '0')}`,
          protocol,
          mode,
          port: 0,
        });
      }
    }
  }
  return out;
}

interface Figures {
  instruments: Plan[];
  seconds: number;
  analyzers: AnalyzerOutcome[];
  analyzerCpuMs: number;
  stored: Map<string, number>;
  storedTotal: number;
  probe: ProbeReport;
  rssReadyBytes: number;
  rssMaxBytes: number;
  rssPeakBytes: number;
  resident: { anonymous: number; file: number };
  gatewayCpuMs: number;
  trafficMs: number;
  startMs: number;
  stopMs: number;
}

async function run(perKind: number, seconds: number, work: string): Promise<Figures> {
  const instruments = plans(perKind);
  const clients = instruments.filter((p) => p.mode === 'client');
  const servers = instruments.filter((p) => p.mode === 'server');
  const plan = (p: Plan): AnalyzerPlan => ({
    id: p.id,
    protocol: p.protocol,
    port: p.mode === 'server' ? p.port : 0,
    messages: seconds,
    intervalMs: INTERVAL_MS,
    results: RESULTS,
  });
  const timeoutMs = seconds * 1_000 + 120_000;

  const analyzers = new Channel<AnalyzersCommand, AnalyzersReply>(
    fork(script('analyzers.ts'), { stdio: 'inherit' }),
  );
  let gateway: ServerProcess | null = null;
  try {
    await analyzers.next('ready', 30_000);
    // The analyzers the client links reach must listen before the gateway starts.
    analyzers.send({ cmd: 'listen', analyzers: clients.map(plan) });
    const { ports } = await analyzers.next('listening', 30_000);
    for (const p of clients) p.port = ports[p.id]!;
    const serverPorts = await freePorts(servers.length);
    servers.forEach((p, i) => (p.port = serverPorts[i]!));

    const config = path.join(work, 'config.json');
    const db = path.join(work, 'gateway.sqlite');
    writeFileSync(
      config,
      JSON.stringify({
        instruments: instruments.map((p) => ({
          id: p.id,
          protocol: p.protocol,
          mode: p.mode,
          host: '127.0.0.1',
          port: p.port,
        })),
        storage: { durability: 'full' },
      }),
    );
    const wanted = new Map(
      instruments.map((p) => [p.id, p.mode === 'server' ? 'listening' : 'connected']),
    );
    const startedAt = performance.now();
    gateway = await startServe(
      {
        config,
        db,
        log: path.join(work, 'serve.log'),
        preload: [pathToFileURL(script('serve-probe.ts')).href],
        ipc: true,
      },
      (log) => {
        const states = linkStates(log);
        for (const [id, state] of wanted) if (states.get(id) !== state) return false;
        return true;
      },
      120_000,
    );
    const startMs = performance.now() - startedAt;
    const probe = new Channel<ProbeCommand, ProbeReport>(gateway.child);
    const pid = gateway.pid;
    const rssReadyBytes = memoryOf(pid, 'VmRSS');

    probe.send({ cmd: 'reset' });
    const cpuAtStart = cpuMsOf(pid);
    const trafficFrom = performance.now();
    analyzers.send({ cmd: 'connect', analyzers: servers.map(plan) });
    let rssMaxBytes = rssReadyBytes;
    const sampler = setInterval(() => {
      rssMaxBytes = Math.max(rssMaxBytes, memoryOf(pid, 'VmRSS') || 0);
    }, 500);
    let done: Extract<AnalyzersReply, { type: 'done' }>;
    try {
      done = await analyzers.next('done', timeoutMs);
    } finally {
      clearInterval(sampler);
    }
    const trafficMs = performance.now() - trafficFrom;
    const gatewayCpuMs = cpuMsOf(pid) - cpuAtStart;
    probe.send({ cmd: 'report' });
    const report = await probe.next('probe', 10_000);
    const rssPeakBytes = memoryOf(pid, 'VmHWM');
    const resident = residentOf(pid);

    const stoppingAt = performance.now();
    await gateway.stop(30_000);
    const stopMs = performance.now() - stoppingAt;
    gateway = null;

    const store = openStore({ file: db, readonly: true });
    const stored = new Map<string, number>();
    try {
      for (const p of instruments) {
        let count = 0;
        let cursor: string | null = null;
        do {
          const page = store.queryMessages({
            instrumentId: p.id,
            direction: 'in',
            limit: 1000,
            cursor,
          });
          count += page.items.length;
          cursor = page.nextCursor;
        } while (cursor);
        stored.set(p.id, count);
      }
      return {
        instruments,
        seconds,
        analyzers: done.analyzers,
        analyzerCpuMs: done.cpuMs,
        stored,
        storedTotal: store.counts().messages,
        probe: report,
        rssReadyBytes,
        rssMaxBytes,
        rssPeakBytes,
        resident,
        gatewayCpuMs,
        trafficMs,
        startMs,
        stopMs,
      };
    } finally {
      store.close();
    }
  } finally {
    await gateway?.stop(5_000);
    analyzers.send({ cmd: 'exit' });
    await analyzers.exited(5_000);
  }
}

const mb = (bytes: number) => fmt(bytes / 1e6);

export const scaleSuite: Suite = async ({ quick }) => {
  const perKind = quick ? 3 : 50;
  const seconds = quick ? 5 : 60;
  const loadBefore = os.loadavg()[0]!;
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-scale-'));
  let f: Figures;
  try {
    f = await run(perKind, seconds, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const count = f.instruments.length;
  const acked = f.analyzers.reduce((sum, a) => sum + a.acked, 0);
  const notAcked = f.analyzers.reduce((sum, a) => sum + a.failed + a.rejected, 0);
  const missing = f.analyzers.reduce(
    (sum, a) => sum + Math.max(0, a.acked - (f.stored.get(a.id) ?? 0)),
    0,
  );
  const latencies = f.analyzers.flatMap((a) => a.latencies);
  const latencyOf = (filter: (a: AnalyzerOutcome) => boolean) =>
    f.analyzers.filter(filter).flatMap((a) => a.latencies);
  const byProtocol = (protocol: string) => latencyOf((a) => a.protocol === protocol);
  const mode = (id: string) => f.instruments.find((p) => p.id === id)?.mode;
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');

  const rows: Row[] = [
    {
      name: 'messages acknowledged / stored',
      value: `${fmt(acked)} / ${fmt(f.storedTotal)}`,
      goal: 'every acknowledged message stored',
      result:
        missing === 0 && notAcked === 0
          ? 'met'
          : `${missing} missing, ${notAcked} not acknowledged`,
    },
    {
      name: 'messages acknowledged per second of traffic',
      value: fmt((acked / f.trafficMs) * 1000, 1),
      goal: `≈ ${count} (one a second each)`,
      result: '-',
    },
    {
      name: 'ACK latency p50 / p99 / max, ms',
      value: `${fmt(percentile(latencies, 50), 1)} / ${fmt(percentile(latencies, 99), 1)} / ${fmt(Math.max(...latencies), 1)}`,
      goal: '-',
      result: '-',
    },
    {
      name: 'ACK latency p99, ms: HL7 / ASTM',
      value: `${fmt(percentile(byProtocol('hl7'), 99), 1)} / ${fmt(percentile(byProtocol('astm'), 99), 1)}`,
      goal: '-',
      result: '-',
    },
    {
      name: 'ACK latency p99, ms: server links / client links',
      value:
        `${fmt(
          percentile(
            latencyOf((a) => mode(a.id) === 'server'),
            99,
          ),
          1,
        )} / ` +
        `${fmt(
          percentile(
            latencyOf((a) => mode(a.id) === 'client'),
            99,
          ),
          1,
        )}`,
      goal: '-',
      result: '-',
    },
    {
      name: 'gateway peak RSS (VmHWM), MB',
      value: mb(f.rssPeakBytes),
      goal: `< ${mb(RSS_GOAL)} MB`,
      result: `${(f.rssPeakBytes / RSS_GOAL).toFixed(2)}× the limit: ${verdict(f.rssPeakBytes < RSS_GOAL)}`,
    },
    {
      name: 'gateway RSS with every link open / highest during traffic, MB',
      value: `${mb(f.rssReadyBytes)} / ${mb(f.rssMaxBytes)}`,
      goal: '-',
      result: '-',
    },
    {
      name: 'gateway RSS at the end: V8 heap / Buffers and other external / rest of anonymous / file-backed, MB',
      value:
        `${mb(f.probe.memory.heapTotal)} / ${mb(f.probe.memory.external)} / ` +
        `${mb(f.resident.anonymous - f.probe.memory.heapTotal - f.probe.memory.external)} / ` +
        `${mb(f.resident.file)}`,
      goal: '-',
      result: '-',
    },
    {
      name: 'event-loop lag p50 / p99 / max, ms',
      value: `${fmt(f.probe.lagP50Ms, 1)} / ${fmt(f.probe.lagP99Ms, 1)} / ${fmt(f.probe.lagMaxMs, 1)}`,
      goal: `p99 < ${LAG_GOAL_MS}`,
      result: `${(f.probe.lagP99Ms / LAG_GOAL_MS).toFixed(2)}× the limit: ${verdict(f.probe.lagP99Ms < LAG_GOAL_MS)}`,
    },
    {
      name: 'gateway CPU during traffic, % of one core (µs per message)',
      value: `${fmt((f.gatewayCpuMs / f.trafficMs) * 100, 1)} % (${fmt((f.gatewayCpuMs * 1000) / Math.max(1, acked))})`,
      goal: '-',
      result: '-',
    },
    {
      name: 'analyzers process CPU, % of one core',
      value: `${fmt((f.analyzerCpuMs / f.trafficMs) * 100, 1)} %`,
      goal: '-',
      result: '-',
    },
    {
      name: `start (every link up) / stop (SIGTERM → exit), ms`,
      value: `${fmt(f.startMs)} / ${fmt(f.stopMs)}`,
      goal: '-',
      result: '-',
    },
  ];

  const ratios = [
    `Every acknowledged message stored: ${missing === 0 ? 'met' : `missed (${missing} missing)`}; ` +
      `${notAcked} message(s) not acknowledged`,
    `Gateway peak RSS / 250 MB limit = ${(f.rssPeakBytes / RSS_GOAL).toFixed(2)}×: ${verdict(f.rssPeakBytes < RSS_GOAL)}`,
    `Event-loop lag p99 / 50 ms limit = ${(f.probe.lagP99Ms / LAG_GOAL_MS).toFixed(2)}×: ${verdict(f.probe.lagP99Ms < LAG_GOAL_MS)}`,
  ];
  for (const a of f.analyzers) {
    if (a.failed + a.rejected > 0) {
      ratios.push(`${a.id}: ${a.failed + a.rejected} not acknowledged, first: ${a.firstError}`);
    }
  }

  const method =
    `${count} instruments in one gateway: ${perKind} HL7 and ${perKind} ASTM server links with ` +
    `an analyzer connecting to each, ${perKind} HL7 and ${perKind} ASTM client links each ` +
    `connecting to an analyzer that listens. Each analyzer is the project's runSimulator ` +
    `sending ${seconds} messages (${RESULTS} results each: HL7 ORU^R01, or ASTM H/P/O/R…/L in ` +
    `E1381 frames), waiting for each acknowledgement and then ${fmt(INTERVAL_MS)} ms before the ` +
    `next, so about one message a second; they start together, so traffic comes in bursts. ` +
    `All analyzers run in one process of their own. The gateway is the CLI \`serve --config F ` +
    `--db F --log json\` (FULL durability, every message logged as a JSON line to a file) ` +
    `with bench/servers/serve-probe.ts loaded by \`--import\`: it runs ` +
    `perf_hooks.monitorEventLoopDelay inside the gateway process (a timer every 10 ms; its ` +
    `lag is how much later than due it ran), reset ` +
    `when the connecting analyzers start and read when all analyzers are done, and touches ` +
    `nothing else. The serve CLI rather than a Gateway built in a forked child, so that what ` +
    `runs is what a laboratory runs: the composition root, the command service and the event ` +
    `log. RSS comes from /proc/PID/status (VmHWM: the peak over the process's life, start-up ` +
    `under tsx included; VmRSS sampled every 500 ms), CPU from /proc/PID/stat. After the ` +
    `gateway has stopped, its database is opened read-only and each instrument's stored ` +
    `messages are counted against the messages its analyzer saw acknowledged. ACK latency is ` +
    `send → acknowledgement as the analyzer sees it (ASTM: ENQ → ACK of the last frame). ` +
    loadNote(loadBefore);

  return { title: `Scale: ${count} instruments in one gateway`, method, rows, ratios };
};
