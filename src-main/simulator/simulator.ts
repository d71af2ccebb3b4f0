/**
 * An analyzer on the other end of a link: sends N result messages and waits for each to be
 * acknowledged as its protocol requires. Used by `gateway simulate`, tests
 * and benchmarks.
 */
import net from 'node:net';
import type { Clock } from '../protocols/clock';
import { systemClock } from '../system-clock';
import { openChannel } from './channels';
import { simulateSample, type SimulatedSample } from './content';

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

/** One connection of the run. */
interface RunChannel {
  /** Resolves with the message's outcome; at once with a failure when the connection is gone. */
  send(seq: number): Promise<Outcome>;
  close(): void;
  /** Why the connection ended, once it has. */
  readonly lost: string | null;
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
    const channel = runChannel(socket, options, clock, random, runId);
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

/**
 * Sends the run's messages over one connection and waits for each outcome. A message sent after
 * the connection dropped fails at once instead of waiting forever.
 */
function runChannel(
  socket: net.Socket,
  options: SimulatorOptions,
  clock: Clock,
  random: () => number,
  runId: string,
): RunChannel {
  const pending = new Map<string, (outcome: Outcome) => void>();
  const settle = (id: string, outcome: Outcome): void => {
    pending.get(id)?.(outcome);
    pending.delete(id);
  };
  const channel = openChannel(
    options.protocol,
    socket,
    { clock, ackTimeoutMs: options.ackTimeoutMs ?? 30_000 },
    {
      acked: (id) => {
        options.onAcked?.(id);
        settle(id, { acked: true });
      },
      failed: (id, error) => settle(id, { acked: false, error }),
      lost: (why) => {
        for (const resolve of pending.values()) resolve({ acked: false, error: why });
        pending.clear();
      },
    },
  );
  const wait = (id: string, start: () => void): Promise<Outcome> => {
    if (channel.lost) return Promise.resolve({ acked: false, error: channel.lost });
    return new Promise<Outcome>((resolve) => {
      pending.set(id, resolve);
      start();
    });
  };
  return {
    get lost() {
      return channel.lost;
    },
    close: () => channel.close(),
    send(seq) {
      const astm = options.protocol === 'astm';
      const n = String(seq).padStart(6, '0');
      // ASTM reports a message by its sample ID, HL7 by its control ID.
      const id = astm ? `S${runId}${n}` : `SIM${runId}${n}`;
      const at = clock.now();
      const sample = simulateSample(astm ? id : `H${runId}${n}`, options.results, at, random);
      options.onMessage?.(id, sample);
      const outcome = wait(id, () => channel.send(sample, id, at));
      // The HL7 sender times out by itself; an ASTM session retries until it gives up.
      return astm ? withTimeout(outcome, options.ackTimeoutMs, id) : outcome;
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
