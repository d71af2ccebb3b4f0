import { connect, type Socket } from 'node:net';
import { Timer, type Clock } from '../protocols/clock';
import { backoffDelay, type BackoffPolicy } from './backoff';
import { ConnectionPool, type ConnectionSettings, type SocketConnection } from './connection';
import { DISCONNECTED_BY_USER, RECONNECT_BY_USER, SHUTDOWN } from './reasons';
import {
  backoffPolicy,
  connectionSettings,
  DEFAULT_CLOSE_DEADLINE_MS,
  eventSink,
} from './settings';
import { StatusKeeper, disconnectedByUser, stopped } from './status';
import type {
  HandlerFactory,
  Link,
  LinkCloseReason,
  LinkErrorCode,
  LinkEvent,
  LinkOptions,
} from './types';
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

type Phase = 'idle' | 'running' | 'stopped' | 'closing' | 'closed';

const defaultConnect: ConnectFactory = (target) => connect(target);

class TcpClientLink implements Link {
  readonly id: string;
  private readonly host: string;
  private readonly port: number;
  private readonly target: string;
  private readonly connectTimeoutMs: number;
  private readonly stableAfterMs: number;
  private readonly settings: ConnectionSettings;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly policy: BackoffPolicy;
  private readonly connectFactory: ConnectFactory;
  private readonly handlerFactory: HandlerFactory;
  private readonly emit: (event: LinkEvent) => void;
  private readonly keeper: StatusKeeper;
  private readonly pool: ConnectionPool;
  private readonly retryTimer: Timer;
  private readonly connectTimer: Timer;
  private readonly stableTimer: Timer;

  private phase: Phase = 'idle';
  /** Failed attempts since the last connection that held: the backoff step. */
  private failures = 0;
  private sequence = 0;
  private pending: Socket | null = null;
  private current: SocketConnection | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: ClientLinkOptions) {
    this.id = options.id;
    this.host = options.host;
    this.port = options.port;
    this.target = formatEndpoint(options.host, options.port);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.stableAfterMs = options.stableAfterMs ?? 10_000;
    this.settings = connectionSettings(options);
    this.clock = this.settings.clock;
    this.random = options.random ?? Math.random;
    this.policy = backoffPolicy(options.reconnect);
    this.connectFactory = options.connect ?? defaultConnect;
    this.handlerFactory = options.handlerFactory;
    this.emit = eventSink(options.onEvent);
    this.retryTimer = new Timer(this.clock);
    this.connectTimer = new Timer(this.clock);
    this.stableTimer = new Timer(this.clock);
    this.keeper = new StatusKeeper(
      this.clock,
      (status) => this.emit({ type: 'status', status }),
      'disabled',
      'not started',
    );
    this.pool = new ConnectionPool(this.settings, {
      emit: this.emit,
      activity: (at) => this.keeper.touch(at),
    });
  }

  get status() {
    return this.keeper.status;
  }

  start(): void {
    if (this.phase !== 'idle' && this.phase !== 'stopped') return;
    this.phase = 'running';
    this.failures = 0;
    this.connectNow();
  }

  reconnect(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'running';
    this.failures = 0;
    this.dropCurrent(RECONNECT_BY_USER);
    this.connectNow();
  }

  disconnect(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'stopped';
    this.dropCurrent(DISCONNECTED_BY_USER);
    disconnectedByUser(this.keeper, DISCONNECTED_BY_USER.message, this.peerFields());
  }

  close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS): Promise<void> {
    this.closing ??= this.shutdown(deadlineMs);
    return this.closing;
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const deadlineAt = this.clock.now() + Math.max(0, deadlineMs);
    this.phase = 'closing';
    this.retryTimer.disarm();
    this.stableTimer.disarm();
    this.abortPending();
    if (this.pool.size > 0) {
      this.keeper.update({
        reason: `stopping: letting the message in progress finish (at most ${formatDuration(deadlineMs)})`,
      });
    }
    await this.pool.shutdownAll(SHUTDOWN, deadlineAt, this.settings.closeGraceMs);
    this.current = null;
    this.phase = 'closed';
    stopped(this.keeper);
  }

  /** Stops every timer and attempt and ends the open connection; what follows is up to the caller. */
  private dropCurrent(reason: LinkCloseReason): void {
    this.retryTimer.disarm();
    this.stableTimer.disarm();
    this.abortPending();
    const current = this.current;
    this.current = null;
    current?.close(reason);
  }

  private connectNow(): void {
    this.retryTimer.disarm();
    this.abortPending();
    const attempt = this.failures === 0 ? '' : ` (attempt ${this.failures + 1})`;
    this.keeper.update({
      state: 'connecting',
      reason: `connecting to ${this.target}${attempt}`,
      nextRetryAt: null,
      disconnectedByUser: false,
      ...this.peerFields(),
    });
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
    if (this.phase === 'running') this.scheduleRetry(message);
  }

  private onConnected(socket: Socket): void {
    this.pending = null;
    this.connectTimer.disarm();
    const remote = socket.remoteAddress;
    const peer = remote ? formatEndpoint(normalizeAddress(remote), socket.remotePort) : this.target;
    const connection = this.pool.open(socket, `${this.id}#${++this.sequence}`, peer, {
      received: () => this.markStable(connection),
      closed: (closed, reason) => this.onConnectionClosed(closed, reason),
    });
    this.current = connection;
    this.stableTimer.arm(this.stableAfterMs, () => this.markStable(connection));
    this.emit({ type: 'connected', connectionId: connection.id, peer });
    this.keeper.update({
      state: 'connected',
      reason: `connected to ${peer}`,
      nextRetryAt: null,
      disconnectedByUser: false,
      ...this.peerFields(),
    });
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
    if (this.phase === 'running') {
      this.scheduleRetry(`the connection to ${connection.peer} ended: ${reason.message}`);
    } else {
      this.keeper.update(this.peerFields());
    }
  }

  private scheduleRetry(why: string): void {
    const delay = backoffDelay(this.failures, this.policy, this.random);
    this.failures++;
    this.keeper.update({
      state: 'reconnecting',
      reason: `${why}; trying again in ${formatDuration(delay)}`,
      nextRetryAt: this.clock.now() + delay,
      disconnectedByUser: false,
      ...this.peerFields(),
    });
    this.retryTimer.arm(delay, () => {
      if (this.phase === 'running') this.connectNow();
    });
  }

  private peerFields(): { peers: string[]; connections: number } {
    const live = this.pool.live;
    return { peers: live.map((connection) => connection.peer), connections: live.length };
  }
}
