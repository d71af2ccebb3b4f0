import { describeLine, type SerialSettings } from '../../src-shared/config';
import { Timer } from '../protocols/clock';
import type { BackoffPolicy } from './backoff';
import type { SocketConnection } from './connection';
import { LinkLifecycle } from './lifecycle';
import { closeReason } from './reasons';
import { systemSerialPorts } from './serial-ports';
import { SerialStream, type SerialPortHandle, type SerialPorts } from './serial-stream';
import type { Link, LinkBaseOptions, LinkCloseReason } from './types';
import { describeSerialError } from './words';

export interface SerialLinkOptions extends LinkBaseOptions {
  serial: SerialSettings;
  /** Delays between attempts to open the port. Default 1 s doubling to 5 s, ±20 % jitter. */
  reconnect?: Partial<BackoffPolicy>;
  /** An open port that stays up this long, or receives a byte, resets the backoff. Default 10 s. */
  stableAfterMs?: number;
  /** How often an open port is checked to be still there. Default 1 s. */
  watchEveryMs?: number;
  /** Default: the machine's ports through `serialport`. */
  ports?: SerialPorts;
}

/** Reopening a serial port is cheap and a technician waits at the bench: retries stay short. */
export const SERIAL_MAX_RETRY_MS = 5_000;

/**
 * A link over an RS-232 port: one connection while the port is open. It opens the port, reopens
 * it with backoff when it fails or goes away (a USB adapter unplugged, the device switched off)
 * and says why in words a technician can act on. The protocol above does not know it is serial.
 */
export function createSerialLink(options: SerialLinkOptions): Link {
  return new SerialLink(options);
}

class SerialLink extends LinkLifecycle {
  private readonly serial: SerialSettings;
  private readonly line: string;
  private readonly ports: SerialPorts;
  private readonly stableAfterMs: number;
  private readonly watchEveryMs: number;
  private readonly stableTimer: Timer;
  private readonly watchTimer: Timer;

  /** Bumped by every attempt and every stop, so a late answer of an old attempt is ignored. */
  private generation = 0;
  private pendingOpen: Promise<void> | null = null;
  private current: SocketConnection | null = null;
  /** Which device the path named when it was opened. */
  private identity: string | null = null;

  constructor(options: SerialLinkOptions) {
    super(
      { ...options, keepAliveMs: 0 },
      { initialDelayMs: 1_000, maxDelayMs: SERIAL_MAX_RETRY_MS, ...options.reconnect },
    );
    this.serial = options.serial;
    this.line = describeLine(options.serial);
    this.ports = options.ports ?? systemSerialPorts;
    this.stableAfterMs = options.stableAfterMs ?? 10_000;
    this.watchEveryMs = options.watchEveryMs ?? 1_000;
    this.stableTimer = new Timer(this.clock);
    this.watchTimer = new Timer(this.clock);
  }

  private get path(): string {
    return this.serial.path;
  }

  protected open(): void {
    const generation = ++this.generation;
    const attempt = this.failures === 0 ? '' : ` (attempt ${this.failures + 1})`;
    this.announce('connecting', `opening ${this.path} (${this.line})${attempt}`);
    let opening: Promise<SerialPortHandle>;
    try {
      opening = this.ports.open(this.serial);
    } catch (error) {
      opening = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const settled = opening.then(
      async (handle) => {
        const identity = await this.ports.identify(this.path).catch(() => null);
        if (generation !== this.generation || !this.running) {
          // Stopped or restarted meanwhile: this port is not wanted any more.
          await closeQuietly(handle);
          return;
        }
        this.opened(handle, identity);
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        const { code, message } = describeSerialError(error, this.path);
        const words = `could not open ${this.path}: ${message}`;
        this.emit({ type: 'error', code, message: words });
        if (this.running) this.retryLater('reconnecting', words);
      },
    );
    const pending = settled.finally(() => {
      if (this.pendingOpen === pending) this.pendingOpen = null;
    });
    this.pendingOpen = pending;
  }

  protected stopOpening(): void {
    this.generation++;
    this.stableTimer.disarm();
    this.watchTimer.disarm();
    this.current = null;
  }

  protected override async released(): Promise<void> {
    await this.pendingOpen;
  }

  private opened(handle: SerialPortHandle, identity: string | null): void {
    const stream = new SerialStream(handle);
    const connection = this.adopt(stream, this.path, {
      received: () => this.markStable(connection),
      closed: (closed, reason) => this.onClosed(closed, reason),
    });
    this.current = connection;
    this.identity = identity;
    this.stableTimer.arm(this.stableAfterMs, () => this.markStable(connection));
    this.emit({ type: 'connected', connectionId: connection.id, peer: this.path });
    this.announce('connected', `${this.path} is open (${this.line})`);
    connection.attach(this.handlerFactory);
    this.watch(connection);
  }

  /**
   * A port can vanish without an error: a pseudo-terminal whose other end hung up may answer
   * every read with end-of-file. So the path is checked now and then: gone, or naming another
   * device than the one opened, closes the connection and the port is opened again.
   */
  private watch(connection: SocketConnection): void {
    if (this.watchEveryMs <= 0) return;
    this.watchTimer.arm(this.watchEveryMs, () => {
      void this.ports
        .identify(this.path)
        .catch(() => this.identity)
        .then((now) => {
          if (connection !== this.current || !connection.live) return;
          if (now !== null && (this.identity === null || now === this.identity)) {
            this.watch(connection);
            return;
          }
          const message =
            now === null
              ? `${this.path} went away: the USB adapter may be unplugged or the device switched off; it is opened again when it is back`
              : `${this.path} now names another device (it was unplugged and plugged in again); opening it again`;
          this.emit({
            type: 'error',
            code: 'LINK_PORT_GONE',
            message,
            connectionId: connection.id,
            peer: this.path,
          });
          connection.end(closeReason('LINK_PORT_GONE', message), 0);
        });
    });
  }

  private markStable(connection: SocketConnection): void {
    if (connection !== this.current) return;
    this.failures = 0;
    this.stableTimer.disarm();
  }

  private onClosed(connection: SocketConnection, reason: LinkCloseReason): void {
    const shown = this.portReason(reason);
    this.emit({
      type: 'disconnected',
      connectionId: connection.id,
      peer: connection.peer,
      reason: shown,
    });
    if (connection !== this.current) {
      this.keeper.update(this.peerFields());
      return;
    }
    this.current = null;
    this.stableTimer.disarm();
    this.watchTimer.disarm();
    if (this.running) this.retryLater('reconnecting', shown.message);
    else this.keeper.update(this.peerFields());
  }

  /** A socket's words for a port's end. */
  private portReason(reason: LinkCloseReason): LinkCloseReason {
    if (reason.code === 'LINK_PEER_CLOSED')
      return closeReason(
        'LINK_PORT_GONE',
        `${this.path} closed: the USB adapter may be unplugged or the device switched off`,
      );
    if (reason.code === 'LINK_SOCKET_ERROR')
      return closeReason('LINK_PORT_GONE', `${this.path} stopped working (${reason.message})`);
    return reason;
  }
}

function closeQuietly(handle: SerialPortHandle): Promise<void> {
  return new Promise((resolve) => {
    try {
      handle.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
