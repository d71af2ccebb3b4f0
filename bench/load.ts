/**
 * The sending side of the gateway benchmark, run as a child process so that its CPU time and
 * memory are not counted as the gateway's, and so that it runs on the other core as a real
 * analyzer would. The same lean senders drive the plain ping-pong servers and the gateway, so
 * the ratios between them compare only what happens on the receiving side.
 *
 * Driven over the fork IPC channel: `run` a phase, get `measuring` when its timed part starts
 * and `done` with the figures.
 */
import net from 'node:net';
import { ACK, ENQ, EOT } from '../src-main/protocols/astm/control';
import { FS, frameMllp } from '../src-main/protocols/hl7/mllp';
import { hl7Oru } from '../src-main/simulator/content';
import { runSimulator } from '../src-main/simulator/simulator';
import { astmFrames, astmMessageRecords, benchOru, seededRandom } from './fixtures';
import { percentile } from './support';

export type LoadKind = 'hl7' | 'astm' | 'hl7-simulator';

export interface LoadSpec {
  kind: LoadKind;
  port: number;
  /** Connections sending at once, each sequentially (send, wait for the answer, send). */
  connections: number;
  /** Sending before the timed part, so that both sides are warm. */
  warmupMs: number;
  durationMs: number;
  /** Two characters that start every ID of the phase. */
  tag: string;
  results: number;
  /** hl7-simulator only: messages to send in the timed part (runSimulator counts, not times). */
  messages?: number;
}

export interface LoadResult {
  /** Messages acknowledged in the timed part. */
  messages: number;
  /** Every message acknowledged, warm-up included (to check against what the store holds). */
  ackedTotal: number;
  /** Answers that were not a positive acknowledgement, or connections lost. */
  failed: number;
  firstError: string | null;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of this process during the timed part. */
  cpuMs: number;
  /** Bytes the sender writes per message. */
  bytesPerMessage: number;
  /** Bytes of the last HL7 answer (0 for ASTM). */
  answerBytes: number;
}

export type LoadCommand = { cmd: 'run'; spec: LoadSpec } | { cmd: 'exit' };
export type LoadReply =
  | { type: 'ready' }
  | { type: 'measuring' }
  | { type: 'done'; result: LoadResult }
  | { type: 'failed'; error: string };

/** One request on a connection: the answer, or why none came. */
type Answer = { ok: true; reply: Buffer } | { ok: false; error: string };

/** A socket used stop-and-wait: one request out, one complete answer back. */
class Exchange {
  private pending: ((answer: Answer) => void) | null = null;
  private parts: Buffer[] = [];
  private lost: string | null = null;

  constructor(
    private readonly socket: net.Socket,
    /** Bytes received so far → length of the complete answer at their start, or 0. */
    private readonly complete: (received: Buffer) => number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.lost = `connection error: ${error.code ?? error.message}`;
    });
    socket.on('close', () => {
      this.lost ??= 'the server closed the connection';
      this.answer({ ok: false, error: this.lost });
    });
  }

  request(bytes: Buffer): Promise<Answer> {
    if (this.lost) return Promise.resolve({ ok: false, error: this.lost });
    return new Promise((resolve) => {
      this.pending = resolve;
      this.socket.write(bytes);
    });
  }

  /** Writes without waiting for an answer (ASTM's EOT). */
  post(bytes: Buffer): void {
    if (!this.lost) this.socket.write(bytes);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2_000).unref();
    });
  }

  private onData(chunk: Buffer): void {
    this.parts.push(chunk);
    const received = this.parts.length === 1 ? chunk : Buffer.concat(this.parts);
    const length = this.complete(received);
    if (length === 0) {
      this.parts = [received];
      return;
    }
    this.parts = length < received.length ? [received.subarray(length)] : [];
    this.answer({ ok: true, reply: received.subarray(0, length) });
  }

  private answer(answer: Answer): void {
    const resolve = this.pending;
    this.pending = null;
    resolve?.(answer);
  }
}

/** An MLLP answer is complete at its `1C 0D`. */
function mllpBlockLength(received: Buffer): number {
  const end = received.indexOf(FS);
  return end >= 0 && end + 1 < received.length ? end + 2 : 0;
}

const oneByte = (received: Buffer): number => (received.length > 0 ? 1 : 0);

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends one whole message on an exchange; resolves with an error text, or null when it was acknowledged. */
type SendOne = (exchange: Exchange, seq: number) => Promise<string | null>;

/** Whole messages cut around their variable ID, so that every message is distinct but the same size. */
interface Sender {
  send: SendOne;
  bytes: (seq: number) => number;
  answerBytes: () => number;
}

function hl7Sender(spec: LoadSpec): Sender {
  const random = seededRandom(7);
  const MARK = '@@CONTROL@@';
  const templates = Array.from({ length: 32 }, (_, i) =>
    benchOru(MARK, `S${spec.tag}${String(i).padStart(7, '0')}`, random, spec.results).split(MARK),
  );
  const message = (seq: number): Buffer => {
    const [head, tail] = templates[seq % templates.length]!;
    const text = `${head}${spec.tag}${String(seq).padStart(8, '0')}${tail}`;
    return frameMllp(Buffer.from(text, 'utf8'));
  };
  let answerBytes = 0;
  return {
    bytes: (seq) => message(seq).length,
    answerBytes: () => answerBytes,
    send: async (exchange, seq) => {
      const answer = await exchange.request(message(seq));
      if (!answer.ok) return answer.error;
      answerBytes = answer.reply.length;
      const text = answer.reply.toString('latin1');
      return /\rMSA\|(AA|CA)\|/.test(text) ? null : `not accepted: ${text.slice(1, 200)}`;
    },
  };
}

function astmSender(spec: LoadSpec): Sender {
  const random = seededRandom(9);
  const MARK = '@@SAMPLE@@';
  const templates = Array.from({ length: 32 }, () =>
    astmMessageRecords(MARK, random, spec.results).map((record) => record.split(MARK)),
  );
  const frames = (seq: number): Buffer[] => {
    const id = `S${spec.tag}${String(seq).padStart(8, '0')}`;
    return astmFrames(templates[seq % templates.length]!.map((parts) => parts.join(id)));
  };
  const enq = Buffer.of(ENQ);
  const eot = Buffer.of(EOT);
  return {
    bytes: (seq) => 2 + frames(seq).reduce((sum, frame) => sum + frame.length, 0),
    answerBytes: () => 0,
    send: async (exchange, seq) => {
      for (const bytes of [enq, ...frames(seq)]) {
        const answer = await exchange.request(bytes);
        if (!answer.ok) return answer.error;
        if (answer.reply[0] !== ACK) {
          exchange.post(eot);
          return `answered 0x${answer.reply[0]!.toString(16).padStart(2, '0')} instead of ACK`;
        }
      }
      exchange.post(eot);
      return null;
    },
  };
}

function cpuMs(): number {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1000;
}

function reply(message: LoadReply): void {
  process.send?.(message);
}

async function runLean(spec: LoadSpec): Promise<LoadResult> {
  const sender = spec.kind === 'astm' ? astmSender(spec) : hl7Sender(spec);
  const exchanges = await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      const socket = await connect(spec.port);
      return new Exchange(socket, spec.kind === 'astm' ? oneByte : mllpBlockLength);
    }),
  );
  const latencies: number[] = [];
  let seq = 0;
  let ackedTotal = 0;
  let failed = 0;
  let firstError: string | null = null;
  let lastDone = 0;
  let cpuAtStart = 0;
  const startAt = performance.now();
  const measureFrom = startAt + spec.warmupMs;
  const stopAt = measureFrom + spec.durationMs;
  const measuring = setTimeout(() => {
    cpuAtStart = cpuMs();
    reply({ type: 'measuring' });
  }, spec.warmupMs);

  const worker = async (exchange: Exchange): Promise<void> => {
    while (performance.now() < stopAt) {
      const sentAt = performance.now();
      const error = await sender.send(exchange, seq++);
      const doneAt = performance.now();
      if (error !== null) {
        failed++;
        firstError ??= error;
        if (error.startsWith('connection') || error.startsWith('the server')) return;
        continue;
      }
      ackedTotal++;
      if (sentAt >= measureFrom) {
        latencies.push(doneAt - sentAt);
        lastDone = doneAt;
      }
    }
  };
  await Promise.all(exchanges.map(worker));
  clearTimeout(measuring);
  const cpu = cpuMs() - cpuAtStart;
  await Promise.all(exchanges.map((exchange) => exchange.close()));
  return {
    messages: latencies.length,
    ackedTotal,
    failed,
    firstError,
    elapsedMs: Math.max(1, lastDone - measureFrom),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuMs: cpu,
    bytesPerMessage: sender.bytes(0),
    answerBytes: sender.answerBytes(),
  };
}

/** The project's own simulator, to show what it costs next to the lean sender. */
async function runWithSimulator(spec: LoadSpec): Promise<LoadResult> {
  const target = { connect: { host: '127.0.0.1', port: spec.port } };
  const random = seededRandom(11);
  let bytes = 0;
  const warm = await runSimulator({
    protocol: 'hl7',
    target,
    messages: Math.max(10, Math.round(spec.warmupMs / 2)),
    results: spec.results,
    concurrency: spec.connections,
    random,
    runId: `${spec.tag}W`,
  });
  const cpuAtStart = cpuMs();
  reply({ type: 'measuring' });
  const summary = await runSimulator({
    protocol: 'hl7',
    target,
    messages: spec.messages ?? 100,
    results: spec.results,
    concurrency: spec.connections,
    random,
    runId: `${spec.tag}M`,
    onMessage: (id, sample) => {
      if (bytes === 0)
        bytes = frameMllp(Buffer.from(hl7Oru(sample, id, Date.now()), 'utf8')).length;
    },
  });
  return {
    messages: summary.acked,
    ackedTotal: warm.acked + summary.acked,
    failed: warm.failed + warm.rejected + summary.failed + summary.rejected,
    firstError: warm.errors[0] ?? summary.errors[0] ?? null,
    elapsedMs: summary.elapsedMs,
    p50Ms: percentile(summary.latencies, 50),
    p99Ms: percentile(summary.latencies, 99),
    cpuMs: cpuMs() - cpuAtStart,
    bytesPerMessage: bytes,
    answerBytes: 0,
  };
}

process.on('message', (command: LoadCommand) => {
  if (command.cmd === 'exit') {
    process.disconnect();
    return;
  }
  const run = command.spec.kind === 'hl7-simulator' ? runWithSimulator : runLean;
  run(command.spec).then(
    (result) => reply({ type: 'done', result }),
    (error: unknown) => reply({ type: 'failed', error: String(error) }),
  );
});
reply({ type: 'ready' });
