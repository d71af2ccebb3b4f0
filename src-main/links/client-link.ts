import { connect, type Socket } from 'node:net';
import { Timer } from '../protocols/clock';
import type { BackoffPolicy } from './backoff';
import type { SocketConnection } from './connection';
import { LinkLifecycle } from './lifecycle';
import type { Link, LinkCloseReason, LinkErrorCode, LinkOptions } from './types';
import { describeSocketError, formatDuration, formatEndpoint, normalizeAddress } from './words';

/** Starts a connection attempt and returns the socket, which emits 'connect' or 'error'. */
export type ConnectFactory = (target: { host: string; port: number }) => Socket;

export interface ClientLinkOptions extends LinkOptions {
  /** Give up a connection attempt after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Delays between attempts. Default 1 s doubling to 60 s, ±20 % jitter. */
  reconnect?: Partial<BackoffPolicy>;
  /** A connection that stays up this long, or receives a byte, resets the backoff. Default 10 s. */
  stableAfterMs?: number;
  /** Default: node:net's connect. */
  connect?: ConnectFactory;
}

/** A link that connects to the analyzer and keeps reconnecting until told otherwise. */
export function createClientLink(options: ClientLinkOptions): Link {
  return new TcpClientLink(options);
}

export const defaultConnect: ConnectFactory = (target) => connect(target);

class TcpClientLink extends LinkLifecycle {
  private readonly host: string;
  private readonly port: number;
  private readonly target: string;
  private readonly connectTimeoutMs: number;
  private readonly stableAfterMs: number;
  private readonly connectFactory: ConnectFactory;
  private readonly connectTimer: Timer;
  private readonly stableTimer: Timer;

  private pending: Socket | null = null;
  private current: SocketConnection | null = null;

  constructor(options: ClientLinkOptions) {
    super(options, options.reconnect);
    this.host = options.host;
    this.port = options.port;
    this.target = formatEndpoint(options.host, options.port);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.stableAfterMs = options.stableAfterMs ?? 10_000;
    this.connectFactory = options.connect ?? defaultConnect;
    this.connectTimer = new Timer(this.clock);
    this.stableTimer = new Timer(this.clock);
  }

  protected open(): void {
    this.abortPending();
    const attempt = this.failures === 0 ? '' : ` (attempt ${this.failures + 1})`;
    this.announce('connecting', `connecting to ${this.target}${attempt}`);
    let socket: Socket;
    try {
      socket = this.connectFactory({ host: this.host, port: this.port });
    } catch (error) {
      this.connectFailed('LINK_CONNECT_FAILED', this.cannotConnect(error));
      return;
    }
    this.pending = socket;
    socket.on('error', (error) => {
      if (this.pending === socket)
        this.connectFailed('LINK_CONNECT_FAILED', this.cannotConnect(error));
    });
    socket.once('connect', () => {
      if (this.pending === socket) this.onConnected(socket);
    });
    this.connectTimer.arm(this.connectTimeoutMs, () => {
      if (this.pending !== socket) return;
      this.connectFailed(
        'LINK_CONNECT_TIMEOUT',
        `could not connect to ${this.target} within ${formatDuration(this.connectTimeoutMs)}: no answer (is the analyzer on and the address right?)`,
      );
    });
  }

  protected stopOpening(): void {
    this.stableTimer.disarm();
    this.abortPending();
    this.current = null;
  }

  private cannotConnect(error: unknown): string {
    return `could not connect to ${this.target}: ${describeSocketError(error, this.host)}`;
  }

  private abortPending(): void {
    const socket = this.pending;
    this.pending = null;
    this.connectTimer.disarm();
    // Its error listener stays attached, so a late error from the discarded socket is absorbed.
    socket?.destroy();
  }

  private connectFailed(code: LinkErrorCode, message: string): void {
    this.abortPending();
    this.emit({ type: 'error', code, message });
    if (this.running) this.retryLater('reconnecting', message);
  }

  private onConnected(socket: Socket): void {
    this.pending = null;
    this.connectTimer.disarm();
    const remote = socket.remoteAddress;
    const peer = remote ? formatEndpoint(normalizeAddress(remote), socket.remotePort) : this.target;
    const connection = this.adopt(socket, peer, {
      received: () => this.markStable(connection),
      closed: (closed, reason) => this.onConnectionClosed(closed, reason),
    });
    this.current = connection;
    this.stableTimer.arm(this.stableAfterMs, () => this.markStable(connection));
    this.emit({ type: 'connected', connectionId: connection.id, peer });
    this.announce('connected', `connected to ${peer}`);
    connection.attach(this.handlerFactory);
  }

  /** The connection held (it stayed up or the analyzer spoke), so the next loss retries quickly. */
  private markStable(connection: SocketConnection): void {
    if (connection !== this.current) return;
    this.failures = 0;
    this.stableTimer.disarm();
  }

  private onConnectionClosed(connection: SocketConnection, reason: LinkCloseReason): void {
    this.emit({ type: 'disconnected', connectionId: connection.id, peer: connection.peer, reason });
    if (connection !== this.current) {
      this.keeper.update(this.peerFields());
      return;
    }
    this.current = null;
    this.stableTimer.disarm();
    if (this.running) {
      this.retryLater(
        'reconnecting',
        `the connection to ${connection.peer} ended: ${reason.message}`,
      );
    } else {
      this.keeper.update(this.peerFields());
    }
  }
}
