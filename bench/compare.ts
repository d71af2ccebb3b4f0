/**
 * `npm run bench -- compare`: the gateway's `serve` next to the HL7 servers a laboratory might
 * run instead — node-hl7-server, python-hl7's asyncio server, a thread-per-connection Python
 * server — and next to plain ping-pong servers, all driven by the same senders with the same
 * messages in the same run, each server a process of its own measured from outside.
 */
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../src-main/store/store';
import type { LoadCommand, LoadReply, LoadResult, LoadSpec } from './load';
import {
  Channel,
  ChannelTimeout,
  cpuMsOf,
  freePort,
  linkStates,
  memoryOf,
  loadNote,
  nodeArgs,
  script,
  startListening,
  startServe,
  type ServerProcess,
} from './servers/child';
import { fmt, type Row, type Suite, type SuiteReport } from './support';

const RESULTS = 20;
const FEW_RESULTS = 3;
const MANY = 50;

/**
 * What each server is driven with, in this order against the same process: one sender, then
 * MANY at once, with the 2.9 KB ORU; then one sender with a small ORU (3 OBX).
 */
interface Phase {
  key: string;
  senders: number;
  results: number;
}
const PHASES: readonly Phase[] = [
  { key: '1', senders: 1, results: RESULTS },
  { key: String(MANY), senders: MANY, results: RESULTS },
  { key: `1x${FEW_RESULTS}`, senders: 1, results: FEW_RESULTS },
];
const PYTHON = '/usr/bin/python3';

/** The sending side (bench/load.ts) in a child process of its own for the whole suite. */
class LoadClient {
  private constructor(private readonly channel: Channel<LoadCommand, LoadReply>) {}

  static async start(): Promise<LoadClient> {
    const child = fork(new URL('./load.ts', import.meta.url), { stdio: 'inherit' });
    const client = new LoadClient(new Channel(child));
    await client.channel.next('ready', 30_000);
    return client;
  }

  /** Runs one phase; `onMeasuring` is called when its timed part starts. */
  async run(spec: LoadSpec, onMeasuring: () => void): Promise<LoadResult> {
    const limit = spec.warmupMs + spec.durationMs + 60_000;
    try {
      this.channel.send({ cmd: 'run', spec });
      await this.channel.next('measuring', limit);
      onMeasuring();
      return (await this.channel.next('done', limit)).result;
    } catch (error) {
      // A late reply would be taken for the next phase's.
      if (error instanceof ChannelTimeout) this.channel.child.kill('SIGKILL');
      throw error;
    }
  }

  async close(): Promise<void> {
    this.channel.send({ cmd: 'exit' });
    await this.channel.exited(5_000);
  }
}

interface Measured {
  load: LoadResult;
  /** User + system CPU time of the server process during the timed part. */
  serverCpuMs: number;
  /** The server process's peak resident memory so far (VmHWM). */
  peakRssBytes: number;
}

/** A round's outcome for one row: figures, or why there are none. */
type Outcome = Measured | { unavailable: string };

interface Started {
  server: ServerProcess;
  /** Run after the server has stopped: a problem with what it did, or null. */
  verify?: (ackedTotal: number) => string | null;
  cleanup?: () => void;
}

interface ServerKind {
  key: string;
  name: string;
  start: (work: string) => Promise<Started>;
}

function gateway(durability: 'full' | 'normal'): ServerKind {
  return {
    key: durability,
    name: `gateway \`serve\`, ${durability.toUpperCase()}, persist before ACK`,
    start: async (work) => {
      const dir = mkdtempSync(path.join(work, `serve-${durability}-`));
      const port = await freePort();
      const config = path.join(dir, 'config.json');
      const db = path.join(dir, 'gateway.sqlite');
      writeFileSync(
        config,
        JSON.stringify({
          instruments: [
            { id: 'bench', protocol: 'hl7', mode: 'server', port, maxConnections: MANY },
          ],
          storage: { durability },
        }),
      );
      const started = await startServe(
        { config, db, log: path.join(dir, 'serve.log'), durability },
        (log) => linkStates(log).get('bench') === 'listening',
      );
      return {
        server: { ...started, port, note: '' },
        verify: (ackedTotal) => {
          const store = openStore({ file: db, readonly: true });
          try {
            const stored = store.counts().messages;
            return stored < ackedTotal
              ? `${ackedTotal} messages acknowledged but ${stored} stored`
              : null;
          } finally {
            store.close();
          }
        },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}

function installedVersion(name: string): string {
  try {
    const manifest = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
}

/** Null when /usr/bin/python3 can import python-hl7's MLLP module, else why not. */
function pythonHl7Missing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import hl7.mllp'], { encoding: 'utf8' });
  if (probe.status === 0) return null;
  const why = probe.stderr.trim().split('\n').at(-1) ?? `exit code ${probe.status}`;
  return `${PYTHON} cannot import hl7.mllp (${why}); install the Debian package python3-hl7`;
}

function threads(key: string, name: string, flags: string[] = []): ServerKind {
  return {
    key,
    name,
    start: async () => ({
      server: await startListening(
        'the threaded Python server',
        existsSync(PYTHON) ? PYTHON : 'python3',
        [script('python-threads.py'), '0', ...flags],
      ),
    }),
  };
}

const kinds: ServerKind[] = [
  gateway('full'),
  gateway('normal'),
  {
    key: 'nodeHl7',
    name: `node-hl7-server ${installedVersion('node-hl7-server')} (AA, nothing stored)`,
    start: async () => ({
      server: await startListening(
        'node-hl7-server',
        ...nodeArgs(script('node-hl7-server.ts'), [String(await freePort())]),
      ),
    }),
  },
  {
    key: 'pyAsyncio',
    name: 'python-hl7 asyncio `start_hl7_server` (AA, nothing stored)',
    start: async () => {
      const missing = pythonHl7Missing();
      if (missing) throw new Error(missing);
      return {
        server: await startListening('the python-hl7 server', PYTHON, [
          script('python-hl7-asyncio.py'),
          '0',
        ]),
      };
    },
  },
  threads('pyThreads', 'Python `ThreadingTCPServer`, thread per connection (AA, nothing stored)'),
  threads(
    'pyThreadsMsh',
    'Python `ThreadingTCPServer`, ACK built from MSH alone, no parser (diagnostic)',
    ['--msh-only'],
  ),
  {
    key: 'raw',
    name: 'ping-pong, raw loopback',
    start: async () => ({
      server: await startListening(
        'the ping-pong server',
        ...nodeArgs(script('pingpong.ts'), ['none']),
      ),
    }),
  },
  {
    key: 'sync',
    name: 'ping-pong, one fdatasync per message',
    start: async (work) => {
      const file = path.join(work, `sync-${Date.now()}-${Math.random()}.log`);
      return {
        server: await startListening(
          'the fdatasync ping-pong server',
          ...nodeArgs(script('pingpong.ts'), ['each', file]),
        ),
        cleanup: () => rmSync(file, { force: true }),
      };
    },
  },
];

/** What a server said about itself when it started (the threaded server: how it builds ACKs). */
const serverNotes = new Map<string, string>();

interface Timing {
  warmupMs: number;
  durationMs: number;
}

/** One server process for both sender counts, measured separately. */
async function runServer(
  kind: ServerKind,
  work: string,
  load: LoadClient,
  timing: Timing,
  nextTag: () => string,
): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  let started: Started;
  try {
    started = await kind.start(work);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    for (const phase of PHASES) outcomes.set(phase.key, { unavailable: why });
    return outcomes;
  }
  const { server } = started;
  if (server.note) serverNotes.set(kind.key, server.note);
  let ackedTotal = 0;
  try {
    for (const phase of PHASES) {
      let cpuAtStart = NaN;
      try {
        const result = await load.run(
          {
            kind: 'hl7',
            port: server.port,
            connections: phase.senders,
            results: phase.results,
            tag: nextTag(),
            ...timing,
          },
          () => (cpuAtStart = cpuMsOf(server.pid)),
        );
        ackedTotal += result.ackedTotal;
        outcomes.set(phase.key, {
          load: result,
          serverCpuMs: cpuMsOf(server.pid) - cpuAtStart,
          peakRssBytes: memoryOf(server.pid, 'VmHWM'),
        });
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        outcomes.set(phase.key, { unavailable: why });
      }
    }
  } finally {
    await server.stop();
  }
  const problem = started.verify?.(ackedTotal) ?? null;
  started.cleanup?.();
  if (problem) throw new Error(`${kind.name}: ${problem}`);
  return outcomes;
}

/** What bounds the gateway's rows, from what the same run measured (medians over rounds). */
function limits(byRound: Map<string, Outcome>[]): string[] {
  const of = (key: string, value: (m: Measured) => number): number | null => {
    const each = byRound
      .map((round) => round.get(key))
      .filter(measured)
      .map(value);
    return each.length > 0 ? median(each) : null;
  };
  const cpuPerMessage = (m: Measured) => (m.serverCpuMs * 1000) / Math.max(1, m.load.messages);
  const busy = (m: Measured) => (m.serverCpuMs / m.load.elapsedMs) * 100;
  const normal = of('normal/1', cpuPerMessage);
  const full = of('full/1', cpuPerMessage);
  const node = of('nodeHl7/1', cpuPerMessage);
  const syncP50 = of('sync/1', (m) => m.load.p50Ms);
  const rawP50 = of('raw/1', (m) => m.load.p50Ms);
  const lines: string[] = [];
  if (normal !== null && node !== null) {
    const load = of('normal/1', busy) ?? NaN;
    lines.push(
      `1 sender: the NORMAL gateway spends ${fmt(normal)} µs of CPU per message, node-hl7-server ` +
        `${fmt(node)} µs (${(normal / node).toFixed(1)}×); the gateway runs at ${fmt(load)} % ` +
        `of a core${load >= 80 ? ', so its CPU per message bounds its rate' : ''}`,
    );
  }
  if (full !== null && syncP50 !== null && rawP50 !== null) {
    const flushUs = (syncP50 - rawP50) * 1000;
    lines.push(
      `1 sender: one fdatasync adds about ${fmt(flushUs)} µs to a ping-pong here (p50 ` +
        `${fmt(syncP50, 2)} ms against ${fmt(rawP50, 2)} ms raw); the FULL gateway spends ` +
        `${fmt(full)} µs of CPU per message` +
        (full > 2 * flushUs
          ? ": on this machine the commit's CPU, not the flush, bounds FULL, so group commit " +
            'has little to amortize'
          : ''),
    );
  }
  return lines;
}

type RatioOf = (a: string, b: string) => { value: number; text: string } | null;

/**
 * The goals for the store's write path, as the `serve` process meets them here: CPU per stored
 * message (FULL), sequential small ORUs against python-hl7, many senders against node-hl7-server.
 */
function storeGoals(byRound: Map<string, Outcome>[], ratioOf: RatioOf): string[] {
  const medianOf = (key: string, value: (m: Measured) => number): number | null => {
    const each = byRound
      .map((round) => round.get(key))
      .filter(measured)
      .map(value);
    return each.length > 0 ? median(each) : null;
  };
  const cpu = (key: string) =>
    medianOf(key, (m) => (m.serverCpuMs * 1000) / Math.max(1, m.load.messages));
  const cpuRows = [
    [`full/1`, `${RESULTS} OBX, 1 sender`],
    [`full/1x${FEW_RESULTS}`, `${FEW_RESULTS} OBX, 1 sender`],
    [`full/${MANY}`, `${RESULTS} OBX, ${MANY} senders`],
  ] as const;
  const lines: string[] = [];
  const known = cpuRows.flatMap(([key, label]) => {
    const value = cpu(key);
    return value === null ? [] : [{ label, value }];
  });
  lines.push(
    `gateway \`serve\` FULL, server CPU per stored message: ` +
      (known.length > 0
        ? known.map((e) => `${fmt(e.value)} µs (${e.label})`).join(', ') +
          `; goal ≤ 300 µs: ${known.every((e) => e.value <= 300) ? 'met' : 'missed'}`
        : 'unavailable'),
  );
  const ratioGoal = (what: string, a: string, b: string, target: number): string => {
    const r = ratioOf(a, b);
    if (!r) return `${what}: unavailable (a row has no figures); goal ≥ ${target}×`;
    return `${what} = ${r.text}; goal ≥ ${target}×: ${r.value >= target ? 'met' : 'missed'}`;
  };
  lines.push(
    ratioGoal(
      `1 sender, ${FEW_RESULTS} OBX: gateway FULL / python-hl7 asyncio`,
      `full/1x${FEW_RESULTS}`,
      `pyAsyncio/1x${FEW_RESULTS}`,
      1.5,
    ),
    ratioGoal(
      `${MANY} senders: gateway FULL / node-hl7-server`,
      `full/${MANY}`,
      `nodeHl7/${MANY}`,
      1,
    ),
  );
  const p99 = medianOf(`full/${MANY}`, (m) => m.load.p99Ms);
  lines.push(
    `${MANY} senders: gateway FULL ACK p99 = ` +
      (p99 === null
        ? 'unavailable'
        : `${fmt(p99, 2)} ms; goal ≤ 30 ms: ${p99 <= 30 ? 'met' : 'missed'}`),
  );
  return lines;
}

function perSecond(m: Measured): number {
  return (m.load.messages / m.load.elapsedMs) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function num(value: number | null, digits = 0): string {
  return typeof value === 'number' && Number.isFinite(value) ? fmt(value, digits) : '-';
}

const measured = (outcome: Outcome | undefined): outcome is Measured =>
  outcome !== undefined && !('unavailable' in outcome);

export const compareSuite: Suite = async ({ quick }) => {
  const rounds = quick ? 1 : 3;
  const timing: Timing = quick
    ? { warmupMs: 20, durationMs: 80 }
    : { warmupMs: 600, durationMs: 2_500 };
  const loadBefore = os.loadavg()[0]!;
  const work = mkdtempSync(path.join(os.tmpdir(), 'labgw-compare-'));
  let tags = 0;
  const nextTag = () => (tags++).toString(36).toUpperCase().padStart(2, '0');
  const load = await LoadClient.start().catch((error: unknown) => {
    rmSync(work, { recursive: true, force: true });
    throw error;
  });
  const byRound: Map<string, Outcome>[] = [];
  try {
    // Rounds run every server in turn, so that the machine's changing load shows as spread
    // rather than as a difference between rows.
    for (let round = 0; round < rounds; round++) {
      const results = new Map<string, Outcome>();
      for (const kind of kinds) {
        const outcomes = await runServer(kind, work, load, timing, nextTag);
        for (const [phase, outcome] of outcomes) results.set(`${kind.key}/${phase}`, outcome);
      }
      byRound.push(results);
    }
  } finally {
    await load.close();
    rmSync(work, { recursive: true, force: true });
  }
  return report(byRound, timing, rounds, loadNote(loadBefore));
};

function report(
  byRound: Map<string, Outcome>[],
  timing: Timing,
  rounds: number,
  load: string,
): SuiteReport {
  const runs = (key: string) => byRound.map((round) => round.get(key));
  const threadsMode = serverNotes.get('pyThreads');
  const nameOf = (kind: ServerKind) =>
    kind.key === 'pyThreads' && threadsMode === 'msh-only'
      ? `${kind.name}; python-hl7 missing, so ACK from MSH alone`
      : kind.name;
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const kind of kinds) {
    for (const { key: phase, senders, results } of PHASES) {
      const key = `${kind.key}/${phase}`;
      const all = runs(key);
      const ok = all.filter(measured);
      if (ok.length === 0) {
        const why = all.find((o) => o && 'unavailable' in o) as { unavailable: string };
        rows.push({
          name: nameOf(kind),
          senders,
          OBX: results,
          'messages/s': `unavailable: ${why?.unavailable ?? 'not run'}`,
          'rounds min–max': '-',
          'p50 ms': '-',
          'p99 ms': '-',
          'server CPU µs/msg': '-',
          'server CPU': '-',
          'peak RSS MiB': '-',
          failed: '-',
        });
        continue;
      }
      const sorted = [...ok].sort((a, b) => perSecond(a) - perSecond(b));
      const m = sorted[(sorted.length - 1) >> 1]!;
      const rates = ok.map(perSecond);
      const n = Math.max(1, m.load.messages);
      rows.push({
        name: nameOf(kind),
        senders,
        OBX: results,
        'messages/s': fmt(perSecond(m)),
        'rounds min–max':
          ok.length > 1 ? `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}` : '-',
        'p50 ms': num(m.load.p50Ms, 2),
        'p99 ms': num(m.load.p99Ms, 2),
        'server CPU µs/msg': num((m.serverCpuMs * 1000) / n),
        'server CPU': `${num((m.serverCpuMs / m.load.elapsedMs) * 100)} %`,
        'peak RSS MiB': num(Math.max(...ok.map((r) => r.peakRssBytes)) / 2 ** 20),
        failed: ok.reduce((sum, r) => sum + r.load.failed, 0),
      });
      for (const [round, outcome] of all.entries()) {
        if (outcome && 'unavailable' in outcome) {
          notes.push(
            `${kind.name}, ${senders} sender(s), ${results} OBX, round ${round + 1}: ${outcome.unavailable}`,
          );
        } else if (outcome && outcome.load.failed > 0) {
          notes.push(
            `${kind.name}, ${senders} sender(s), ${results} OBX, round ${round + 1}: ${outcome.load.failed} not ` +
              `acknowledged, first: ${outcome.load.firstError}`,
          );
        }
      }
    }
  }

  /** Median over rounds of a ratio taken within each round. */
  const ratioOf = (a: string, b: string): { value: number; text: string } | null => {
    const each = byRound.flatMap((round) => {
      const x = round.get(a);
      const y = round.get(b);
      return measured(x) && measured(y) ? [perSecond(x) / perSecond(y)] : [];
    });
    if (each.length === 0) return null;
    const shown = each.length > 1 ? ` (per round ${each.map((r) => r.toFixed(2)).join(', ')})` : '';
    return { value: median(each), text: `${median(each).toFixed(2)}×${shown}` };
  };
  const goal = (what: string, a: string, b: string, target: number) => {
    const r = ratioOf(a, b);
    if (!r) return `${what}: unavailable (a row has no figures); goal ≥ ${target}×`;
    return `${what} = ${r.text}; goal ≥ ${target}×: ${r.value >= target ? 'met' : 'missed'}`;
  };
  const info = (what: string, a: string, b: string) =>
    `${what} = ${ratioOf(a, b)?.text ?? 'unavailable'}`;

  const ratios: string[] = [...storeGoals(byRound, ratioOf)];
  for (const senders of [1, MANY]) {
    const label = senders === 1 ? '1 sender' : `${senders} senders`;
    ratios.push(
      goal(
        `${label}: gateway NORMAL / node-hl7-server`,
        `normal/${senders}`,
        `nodeHl7/${senders}`,
        1,
      ),
      goal(
        `${label}: gateway NORMAL / python-hl7 asyncio`,
        `normal/${senders}`,
        `pyAsyncio/${senders}`,
        2,
      ),
      goal(
        `${label}: gateway NORMAL / Python thread per connection`,
        `normal/${senders}`,
        `pyThreads/${senders}`,
        2,
      ),
    );
  }
  ratios.push(
    goal('1 sender: gateway FULL / fdatasync ping-pong', 'full/1', 'sync/1', 0.8),
    goal(`${MANY} senders: gateway FULL / fdatasync ping-pong`, `full/${MANY}`, `sync/${MANY}`, 8),
    info(`For scale: gateway NORMAL / raw ping-pong, 1 sender`, 'normal/1', 'raw/1') +
      `; ${MANY} senders ${ratioOf(`normal/${MANY}`, `raw/${MANY}`)?.text ?? 'unavailable'}`,
    info(
      'Python threads with python-hl7 / the same server building its ACK from MSH alone, 1 sender',
      'pyThreads/1',
      'pyThreadsMsh/1',
    ) +
      `; ${MANY} senders ` +
      `${ratioOf(`pyThreads/${MANY}`, `pyThreadsMsh/${MANY}`)?.text ?? 'unavailable'}`,
    ...limits(byRound),
    ...notes,
  );

  const sample = byRound
    .flatMap((round) => [...round.values()])
    .find((o): o is Measured => measured(o) && o.load.answerBytes > 0);
  const method =
    `Loopback TCP on one machine. Every server is a process of its own, started afresh in ` +
    `every round and measured from outside: CPU is its user + system time from /proc/PID/stat ` +
    `during the timed part (µs per acknowledged message, and % of one core), peak RSS its ` +
    `VmHWM, the peak of its life so far (highest of the rounds; the ${MANY}-sender row's ` +
    `includes the 1-sender run before it). The senders are bench/load.ts in one more process: each ` +
    `connection sends an ORU^R01 with ${RESULTS} OBX (${sample ? fmt(sample.load.bytesPerMessage) : '≈2,900'} bytes framed, ` +
    `UTF-8, a unique control ID each) and waits for the answer before sending the next; ` +
    `1 connection, then ${MANY} at once, then 1 connection sending an ORU^R01 with ${FEW_RESULTS} OBX, against the same server process. The gateway is the ` +
    `CLI \`serve --config F --db F --log json --durability full|normal\` with one HL7 server ` +
    `link (maxConnections ${MANY}), logging every message as a JSON line to a file; it ` +
    `commits each message to SQLite before its ACK, and after each server's run its database ` +
    `is checked to hold every acknowledged message. node-hl7-server answers from its ` +
    `handler with \`res.sendResponse('AA')\`; its per-connection buffer bug is worked around ` +
    `(see bench/servers/node-hl7-server.ts). python-hl7 (Debian python3-hl7) runs \`hl7.mllp.start_hl7_server\` ` +
    `under ${PYTHON} with encoding utf-8 (readmessage, create_ack, writemessage, drain). The ` +
    `thread-per-connection server is \`socketserver.ThreadingTCPServer\` with its own MLLP ` +
    `framing and ${
      threadsMode === 'python-hl7'
        ? 'python-hl7 parsing and ACK (the same work per message as the asyncio server)'
        : threadsMode === 'msh-only'
          ? 'an ACK built from MSH alone (python-hl7 was not importable)'
          : 'python-hl7 parsing and ACK when importable, else an ACK built from MSH alone'
    }; the diagnostic row runs it with \`--msh-only\`: what threads and framing cost in ` +
    `Python without a parser. The ping-pong servers are bench/pingpong.ts in a process: an ACK-sized answer ` +
    `(the gateway's was ${sample ? fmt(sample.load.answerBytes) : '≈130'} bytes) per MLLP block ` +
    `at once, or after appending the block to a file and one fdatasync per message. Each ` +
    `phase: ${fmt(timing.warmupMs)} ms warm-up, then ${fmt(timing.durationMs)} ms timed; ` +
    `${rounds} round(s); a row shows its median round, a ratio is the median of the ratios ` +
    `taken within each round. Latency is send → ACK as the sender sees it. ${load}`;

  return {
    title: 'HL7 over MLLP: the gateway next to other servers',
    method,
    rows,
    ratios,
  };
}
