/**
 * An analyzer on the other end of a link: sends N result messages and waits for each to be
 * acknowledged as its protocol requires. Used by `gateway simulate`, the demo instruments, tests
 * and benchmarks.
 */
import net from 'node:net';
import { AstmSession } from '../protocols/astm/session';
import { recordsToBytes } from '../protocols/astm/message';
import type { Clock } from '../protocols/clock';
import { Hl7Sender } from '../protocols/hl7/sender';
import { systemClock } from '../system-clock';
import { astmRecords, hl7Oru, simulateSample, type SimulatedSample } from './content';

export type SimulatorTarget =
  { connect: { host: string; port: number } } | { listen: { host: string; port: number } };

export interface SimulatorOptions {
  protocol: 'astm' | 'hl7';
  target: SimulatorTarget;
  messages: number;
  results: number;
  /** Connections sending at once (connect mode); the messages are shared among them. */
  concurrency?: number;
  /** Pause between one message's acknowledgement and the next message, per connection. */
  intervalMs?: number;
  /** Give up on a message after this long without its acknowledgement. */
  ackTimeoutMs?: number;
  /** Told what each message carries, before it is sent, under the ID `onAcked` reports. */
  onMessage?: (id: string, sample: SimulatedSample) => void;
  /** Told the ID (ASTM sample ID, HL7 control ID) of every acknowledged message. */
  onAcked?: (id: string) => void;
  /** Told once the port is open, in listen mode. */
  onListening?: (port: number) => void;
  random?: () => number;
  clock?: Clock;
  /** Distinguishes this run's IDs from other runs'. */
  runId?: string;
}

export interface SimulatorSummary {
  sent: number;
  acked: number;
  rejected: number;
  /** Messages whose outcome never came: connection lost or timed out. */
  failed: number;
  elapsedMs: number;
  /** Send → acknowledgement, milliseconds, per acknowledged message. */
  latencies: number[];
  errors: string[];
}

interface Outcome {
  acked: boolean;
  error?: string;
}

interface Channel {
  /** Resolves with the message's outcome; at once with a failure when the connection is gone. */
  send(seq: number): Promise<Outcome>;
  close(): void;
  /** Why the connection ended, once it has. */
  readonly lost: string | null;
}

/**
 * Tracks a socket's end and the messages waiting on it, so a message sent after the connection
 * dropped fails at once instead of waiting forever.
 */
class Waiters {
  lost: string | null = null;
  private readonly pending = new Map<string, (outcome: Outcome) => void>();

  constructor(socket: net.Socket, onLost?: () => void) {
    let why = 'the gateway closed the connection';
    socket.on('error', (error: NodeJS.ErrnoException) => {
      why = `connection error: ${error.code ?? error.message}`;
    });
    socket.once('close', () => {
      this.lost = why;
      onLost?.();
      for (const resolve of this.pending.values()) resolve({ acked: false, error: why });
      this.pending.clear();
    });
  }

  wait(id: string, start: () => void): Promise<Outcome> {
    if (this.lost) return Promise.resolve({ acked: false, error: this.lost });
    return new Promise<Outcome>((resolve) => {
      this.pending.set(id, resolve);
      start();
    });
  }

  settle(id: string, outcome: Outcome): void {
    this.pending.get(id)?.(outcome);
    this.pending.delete(id);
  }
}

export async function runSimulator(options: SimulatorOptions): Promise<SimulatorSummary> {
  const random = options.random ?? Math.random;
  const clock = options.clock ?? systemClock;
  const runId =
    options.runId ??
    Math.floor(random() * 36 ** 4)
      .toString(36)
      .toUpperCase()
      .padStart(4, '0');
  const summary: SimulatorSummary = {
    sent: 0,
    acked: 0,
    rejected: 0,
    failed: 0,
    elapsedMs: 0,
    latencies: [],
    errors: [],
  };
  const started = performance.now();
  const concurrency = 'listen' in options.target ? 1 : Math.max(1, options.concurrency ?? 1);
  let next = 0;

  const worker = async (socket: net.Socket): Promise<void> => {
    const channel =
      options.protocol === 'astm'
        ? astmChannel(socket, options, clock, random, runId)
        : hl7Channel(socket, options, clock, random, runId);
    try {
      while (next < options.messages) {
        if (channel.lost) break;
        const seq = next++;
        summary.sent++;
        const t0 = performance.now();
        const outcome = await channel.send(seq);
        if (outcome.acked) {
          summary.acked++;
          summary.latencies.push(performance.now() - t0);
        } else if (outcome.error?.startsWith('rejected')) {
          summary.rejected++;
          summary.errors.push(outcome.error);
        } else {
          summary.failed++;
          if (outcome.error) summary.errors.push(outcome.error);
          if (channel.lost) break;
        }
        if (options.intervalMs && next < options.messages) {
          await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
        }
      }
    } finally {
      channel.close();
    }
  };

  if ('connect' in options.target) {
    const { host, port } = options.target.connect;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const socket = await openSocket(host, port);
        await worker(socket);
      }),
    );
  } else {
    const { host, port } = options.target.listen;
    const socket = await acceptOne(host, port, options.onListening);
    await worker(socket);
  }
  summary.failed += Math.max(0, options.messages - summary.sent);
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}

function openSocket(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (error) =>
      reject(
        new Error(
          `cannot connect to ${host}:${port}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
        ),
      ),
    );
  });
}

function acceptOne(
  host: string,
  port: number,
  onListening?: (port: number) => void,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      server.close();
      socket.setNoDelay(true);
      resolve(socket);
    });
    server.once('error', (error) =>
      reject(
        new Error(
          `cannot listen on ${host}:${port}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
        ),
      ),
    );
    server.listen({ host, port }, () => {
      const address = server.address();
      onListening?.(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function astmChannel(
  socket: net.Socket,
  options: SimulatorOptions,
  clock: Clock,
  random: () => number,
  runId: string,
): Channel {
  let session: AstmSession | null = null;
  const waiters = new Waiters(socket, () => session?.close());
  session = new AstmSession({
    clock,
    role: 'instrument',
    onEvent: (event) => {
      if (event.type === 'send') socket.write(event.bytes);
      else if (event.type === 'delivered') {
        options.onAcked?.(event.id);
        waiters.settle(event.id, { acked: true });
      } else if (event.type === 'deliveryFailed' && !event.willRetry) {
        waiters.settle(event.id, { acked: false, error: `rejected: ${event.error.message}` });
      }
    },
  });
  const astm = session;
  socket.on('data', (chunk: Buffer) => astm.receive(chunk));
  return {
    get lost() {
      return waiters.lost;
    },
    close: () => {
      astm.close();
      socket.end();
    },
    send(seq) {
      const sampleId = `S${runId}${String(seq).padStart(6, '0')}`;
      const at = clock.now();
      const sample = simulateSample(sampleId, options.results, at, random);
      options.onMessage?.(sampleId, sample);
      return withTimeout(
        waiters.wait(sampleId, () =>
          astm.send(recordsToBytes(astmRecords(sample, at), 'latin1'), sampleId),
        ),
        options.ackTimeoutMs,
        sampleId,
      );
    },
  };
}

function hl7Channel(
  socket: net.Socket,
  options: SimulatorOptions,
  clock: Clock,
  random: () => number,
  runId: string,
): Channel {
  const waiters = new Waiters(socket);
  const settle = (id: string, outcome: Outcome) => waiters.settle(id, outcome);
  const sender = new Hl7Sender({
    clock,
    ackTimeoutMs: options.ackTimeoutMs ?? 30_000,
    onEvent: (event) => {
      switch (event.type) {
        case 'send':
          socket.write(event.bytes);
          break;
        case 'acked':
          settle(event.id, { acked: true });
          options.onAcked?.(event.id);
          break;
        case 'rejected':
          settle(event.id, { acked: false, error: `rejected ${event.code}: ${event.text}` });
          break;
        case 'timeout':
          settle(event.id, { acked: false, error: `timeout: ${event.error.message}` });
          break;
        default:
          break;
      }
    },
  });
  socket.on('data', (chunk: Buffer) => sender.receive(chunk));
  return {
    get lost() {
      return waiters.lost;
    },
    close: () => {
      sender.close();
      socket.end();
    },
    send(seq) {
      const controlId = `SIM${runId}${String(seq).padStart(6, '0')}`;
      const at = clock.now();
      const sample = simulateSample(
        `H${runId}${String(seq).padStart(6, '0')}`,
        options.results,
        at,
        random,
      );
      options.onMessage?.(controlId, sample);
      return waiters.wait(controlId, () => void sender.send(hl7Oru(sample, controlId, at)));
    },
  };
}

function withTimeout(
  promise: Promise<Outcome>,
  ms: number | undefined,
  id: string,
): Promise<Outcome> {
  if (!ms) return promise;
  return new Promise((resolve) => {
    const timer = setTimeout(
      () =>
        resolve({ acked: false, error: `timeout: no acknowledgement for ${id} after ${ms} ms` }),
      ms,
    );
    void promise.then((outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}
