import type { Socket } from 'node:net';
import { Timer, type Clock } from '../protocols/clock';
import { systemClock } from '../system-clock';
import { defaultConnect, type ConnectFactory } from './client-link';
import { describeSocketError, errorCode, formatDuration, formatEndpoint } from './words';

export const DEFAULT_PROBE_TIMEOUT_MS = 3_000;

export type ProbeCode =
  | 'LINK_PROBE_ACCEPTED'
  | 'LINK_PROBE_REFUSED'
  | 'LINK_PROBE_UNKNOWN_HOST'
  | 'LINK_PROBE_UNREACHABLE'
  | 'LINK_PROBE_TIMEOUT'
  | 'LINK_PROBE_FAILED';

export interface ProbeTarget {
  host: string;
  port: number;
  /** Give up after this long without an answer. Default 3 s. */
  timeoutMs?: number;
}

export interface ProbeResult {
  /** The analyzer's address accepted a TCP connection. */
  ok: boolean;
  code: ProbeCode;
  /** What happened, in words a bench technician can act on. */
  message: string;
  elapsedMs: number;
}

export interface ProbeDeps {
  /** Default: node:net's connect, as the client link uses. */
  connect?: ConnectFactory;
  /** Default: the system clock. */
  clock?: Clock;
}

/**
 * Tries one TCP connection and closes it as soon as the answer is known: a connection test that
 * touches no link, so an instrument can be checked before it is saved or while its link runs.
 * Never rejects; every outcome is a result.
 */
export function probeConnection(target: ProbeTarget, deps: ProbeDeps = {}): Promise<ProbeResult> {
  const clock = deps.clock ?? systemClock;
  const connect = deps.connect ?? defaultConnect;
  const timeoutMs = target.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const endpoint = formatEndpoint(target.host, target.port);
  const started = clock.now();

  return new Promise((resolve) => {
    const timer = new Timer(clock);
    let socket: Socket | null = null;
    let settled = false;
    const finish = (code: ProbeCode, message: string): void => {
      if (settled) return;
      settled = true;
      timer.disarm();
      socket?.destroy();
      resolve({
        ok: code === 'LINK_PROBE_ACCEPTED',
        code,
        message,
        elapsedMs: Math.round(clock.now() - started),
      });
    };
    const failed = (error: unknown): void => {
      const [code, why] = classify(error, target.host);
      finish(code, `could not connect to ${endpoint}: ${why}`);
    };

    try {
      socket = connect({ host: target.host, port: target.port });
    } catch (error) {
      failed(error);
      return;
    }
    // Stays attached after the answer, so a late error from the closed socket is absorbed.
    socket.on('error', failed);
    socket.once('connect', () =>
      finish('LINK_PROBE_ACCEPTED', `${endpoint} accepted a connection`),
    );
    timer.arm(timeoutMs, () =>
      finish(
        'LINK_PROBE_TIMEOUT',
        `no answer from ${endpoint} within ${formatDuration(timeoutMs)} (is the analyzer on and reachable?)`,
      ),
    );
  });
}

function classify(error: unknown, host: string): [ProbeCode, string] {
  switch (errorCode(error)) {
    case 'ECONNREFUSED':
      return ['LINK_PROBE_REFUSED', 'nothing is listening on that port (connection refused)'];
    case 'ENOTFOUND':
      return ['LINK_PROBE_UNKNOWN_HOST', 'the host name is unknown'];
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return ['LINK_PROBE_UNREACHABLE', 'the host cannot be reached from this computer'];
    case 'ETIMEDOUT':
      return ['LINK_PROBE_TIMEOUT', describeSocketError(error, host)];
    default:
      return ['LINK_PROBE_FAILED', describeSocketError(error, host)];
  }
}
