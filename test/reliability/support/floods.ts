/**
 * Senders that abuse a link: a stream that never ends its block, generated on the fly so even a
 * gigabyte costs the sender one chunk of memory; a burst of connection attempts; a sender that
 * dribbles one byte at a time.
 */
import net from 'node:net';
import { runSimulator } from '../../../src-main/simulator/simulator';
import { LOOPBACK, RawPeer } from './wire';

export interface FloodOutcome {
  /** Bytes the socket accepted before it closed or the total was reached. */
  sent: number;
  /** The gateway closed the connection before the whole flood was written. */
  closedEarly: boolean;
  durationMs: number;
}

/**
 * Writes `prefix`, then `totalBytes` of `fill` in chunks of `chunkBytes` (one buffer, written
 * again and again), honouring backpressure, until done or the peer closes.
 */
export async function floodWithoutEnd(options: {
  port: number;
  /** An open connection to flood instead of a new one. */
  peer?: RawPeer;
  prefix: Buffer;
  totalBytes: number;
  fill: number;
  chunkBytes?: number;
  /** Called after each chunk with the bytes sent so far; resolving waits before the next. */
  onProgress?: (sent: number) => void | Promise<void>;
  /** Keep the socket open afterwards (returned) instead of destroying it. */
  keepOpen?: boolean;
}): Promise<FloodOutcome & { peer: RawPeer | null }> {
  const started = performance.now();
  const peer = options.peer ?? (await RawPeer.connect(options.port));
  const socket = peer.socket;
  const chunk = Buffer.alloc(options.chunkBytes ?? 65_536, options.fill);
  let sent = 0;
  socket.write(options.prefix);
  while (sent < options.totalBytes && !peer.closed && !socket.destroyed) {
    const piece =
      options.totalBytes - sent >= chunk.length
        ? chunk
        : chunk.subarray(0, options.totalBytes - sent);
    const drained = socket.write(piece);
    sent += piece.length;
    if (!drained) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
    await options.onProgress?.(sent);
  }
  const closedEarly = peer.closed || socket.destroyed;
  const durationMs = Math.round(performance.now() - started);
  if (!options.keepOpen) peer.destroy();
  return { sent, closedEarly, durationMs, peer: options.keepOpen ? peer : null };
}

export interface BurstOutcome {
  attempts: number;
  /** Connections the gateway accepted at TCP level and then ended without a byte. */
  endedByGateway: number;
  /** Attempts that failed outright (reset, refused by the kernel) or timed out. */
  failed: number;
  durationMs: number;
}

/** `attempts` connections, `concurrency` at a time, each waiting for the gateway to end it. */
export async function connectionBurst(options: {
  port: number;
  attempts: number;
  concurrency: number;
  timeoutMs?: number;
}): Promise<BurstOutcome> {
  const started = performance.now();
  let next = 0;
  let endedByGateway = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const socket = net.connect({ host: LOOPBACK, port: options.port });
      let ended = false;
      let bytes = 0;
      const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 15_000);
      socket.on('data', (data: Buffer) => (bytes += data.length));
      socket.on('end', () => {
        ended = true;
        socket.end();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        if (ended && bytes === 0) endedByGateway++;
        else failed++;
        resolve();
      });
    });
  const lanes = Array.from({ length: options.concurrency }, async () => {
    while (next < options.attempts) {
      next++;
      await one();
    }
  });
  await Promise.all(lanes);
  return {
    attempts: options.attempts,
    endedByGateway,
    failed,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Sends `bytes` one at a time; `between` runs after each byte (a pause, a clock step…). */
export async function dribble(
  peer: RawPeer,
  bytes: Buffer,
  between: (index: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < bytes.length && !peer.closed; i++) {
    peer.socket.write(bytes.subarray(i, i + 1));
    await between(i);
  }
}

export interface TrafficSummary {
  sent: number;
  acked: number;
  rejected: number;
  failed: number;
  /** Send → ACK, milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * A legitimate HL7 analyzer sending batch after batch on another link until stopped; the
 * figures show whether, and how fast, it was served meanwhile.
 */
export function backgroundTraffic(
  port: number,
  intervalMs = 5,
): { stop: () => Promise<TrafficSummary> } {
  let running = true;
  const latencies: number[] = [];
  const totals = { sent: 0, acked: 0, rejected: 0, failed: 0 };
  const loop = (async () => {
    for (let run = 0; running; run++) {
      const summary = await runSimulator({
        protocol: 'hl7',
        target: { connect: { host: LOOPBACK, port } },
        messages: 50,
        results: 3,
        intervalMs,
        ackTimeoutMs: 10_000,
        runId: `BG${run.toString(36).toUpperCase()}`,
      });
      totals.sent += summary.sent;
      totals.acked += summary.acked;
      totals.rejected += summary.rejected;
      totals.failed += summary.failed;
      latencies.push(...summary.latencies);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      latencies.sort((a, b) => a - b);
      const at = (q: number) =>
        Math.round((latencies[Math.floor(q * (latencies.length - 1))] ?? 0) * 100) / 100;
      return { ...totals, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
    },
  };
}
