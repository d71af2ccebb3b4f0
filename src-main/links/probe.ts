import type { Socket } from 'node:net';
import {
  describeLine,
  serialSettingsSchema,
  type SerialSettings,
  type SerialSettingsInput,
} from '../../src-shared/config';
import { Timer, type Clock } from '../protocols/clock';
import { systemClock } from '../system-clock';
import { defaultConnect, type ConnectFactory } from './client-link';
import { systemSerialPorts } from './serial-ports';
import type { SerialPortHandle, SerialPorts } from './serial-stream';
import {
  describeSerialError,
  describeSocketError,
  errorCode,
  formatDuration,
  formatEndpoint,
} from './words';

export const DEFAULT_PROBE_TIMEOUT_MS = 3_000;

export type ProbeCode =
  | SerialProbeCode
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

export type SerialProbeCode =
  | 'LINK_PROBE_PORT_OPENED'
  | 'LINK_PROBE_PORT_NOT_FOUND'
  | 'LINK_PROBE_PORT_BUSY'
  | 'LINK_PROBE_PORT_DENIED'
  | 'LINK_PROBE_PORT_FAILED'
  | 'LINK_PROBE_TIMEOUT';

export interface SerialProbeTarget {
  serial: SerialSettings;
  /** Give up after this long. Default 3 s. */
  timeoutMs?: number;
}

export interface SerialProbeDeps {
  /** Default: the machine's ports. */
  ports?: SerialPorts;
  clock?: Clock;
}

/**
 * Opens the port with the line settings and closes it at once: whether it exists, is free and
 * may be used. It cannot tell whether an analyzer is on the other end (RS-232 has no
 * connection), and says so. Never rejects.
 */
export function probeSerialPort(
  target: SerialProbeTarget,
  deps: SerialProbeDeps = {},
): Promise<ProbeResult> {
  const clock = deps.clock ?? systemClock;
  const ports = deps.ports ?? systemSerialPorts;
  const timeoutMs = target.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const { path } = target.serial;
  const started = clock.now();
  return new Promise((resolve) => {
    const timer = new Timer(clock);
    let settled = false;
    const finish = (code: SerialProbeCode, message: string): void => {
      if (settled) return;
      settled = true;
      timer.disarm();
      resolve({
        ok: code === 'LINK_PROBE_PORT_OPENED',
        code,
        message,
        elapsedMs: Math.round(clock.now() - started),
      });
    };
    timer.arm(timeoutMs, () =>
      finish('LINK_PROBE_TIMEOUT', `${path} did not open within ${formatDuration(timeoutMs)}`),
    );
    let opening: Promise<SerialPortHandle>;
    try {
      opening = ports.open(target.serial);
    } catch (error) {
      opening = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    opening.then(
      (handle) => {
        try {
          handle.on('error', () => undefined);
          handle.close(() => undefined);
        } catch {
          // Closing a port that was only opened to look at it cannot fail in a way that matters.
        }
        finish(
          'LINK_PROBE_PORT_OPENED',
          `${path} opened with ${describeLine(target.serial)} and was closed again; whether the analyzer answers shows once it sends`,
        );
      },
      (error: unknown) => {
        const { code, message } = describeSerialError(error, path);
        finish(SERIAL_PROBE_CODES[code], `could not open ${path}: ${message}`);
      },
    );
  });
}

const SERIAL_PROBE_CODES = {
  LINK_PORT_NOT_FOUND: 'LINK_PROBE_PORT_NOT_FOUND',
  LINK_PORT_BUSY: 'LINK_PROBE_PORT_BUSY',
  LINK_PORT_DENIED: 'LINK_PROBE_PORT_DENIED',
  LINK_PORT_FAILED: 'LINK_PROBE_PORT_FAILED',
} as const satisfies Record<string, SerialProbeCode>;

/** What "Test connection" may be asked to try: a TCP address or a serial port. */
export type AnyProbeTarget =
  ProbeTarget | { serial: SerialSettingsInput; timeoutMs?: number | undefined };

/** Tries a TCP connection or opens a serial port, whichever the target names. */
export function probeTarget(
  target: AnyProbeTarget,
  deps: ProbeDeps & SerialProbeDeps = {},
): Promise<ProbeResult> {
  if ('serial' in target) {
    const serial = serialSettingsSchema.parse(target.serial);
    return probeSerialPort(
      { serial, ...(target.timeoutMs === undefined ? {} : { timeoutMs: target.timeoutMs }) },
      deps,
    );
  }
  return probeConnection(target, deps);
}
