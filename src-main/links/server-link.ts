import { createServer, type Server, type Socket } from 'node:net';
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
import { StatusKeeper, type StatusChange, disconnectedByUser, stopped } from './status';
import type { HandlerFactory, Link, LinkCloseReason, LinkEvent, LinkOptions } from './types';
import { describeListenError, formatDuration, formatEndpoint, normalizeAddress } from './words';

/** Builds the listening socket; `onConnection` receives every accepted socket. */
export type ListenFactory = (onConnection: (socket: Socket) => void) => Server;

export interface ServerLinkOptions extends LinkOptions {
  /** Connections accepted at once; more are refused. Default 1. */
  maxConnections?: number;
  /** Peer IP addresses allowed to connect; empty or absent: anyone. */
  allowedPeers?: string[];
  /** Delays between attempts to listen after a failure (port in use…). Default 1 s doubling to 60 s. */
  listenRetry?: Partial<BackoffPolicy>;
  /** Default: node:net's createServer. */
  listen?: ListenFactory;
}

/**
 * States: `connecting` while the port is being opened, `listening` with no analyzer connected,
 * `connected` while at least one is, `error` when the port cannot be opened (retried with
 * backoff) or after a manual disconnect, `disabled` before start and after close.
 */
export interface ServerLink extends Link {
  /** The address actually bound (the real port when `port` is 0), or null while not listening. */
  address(): { host: string; port: number } | null;
}

/** A link the analyzer connects to. */
export function createServerLink(options: ServerLinkOptions): ServerLink {
  return new TcpServerLink(options);
}

type Phase = 'idle' | 'running' | 'stopped' | 'closing' | 'closed';

const defaultListen: ListenFactory = (onConnection) => createServer(onConnection);

class TcpServerLink implements ServerLink {
  readonly id: string;
  private readonly host: string;
  private readonly port: number;
  private readonly maxConnections: number;
  private readonly allowedPeers: Set<string>;
  private readonly settings: ConnectionSettings;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retryPolicy: BackoffPolicy;
  private readonly listenFactory: ListenFactory;
  private readonly handlerFactory: HandlerFactory;
  private readonly emit: (event: LinkEvent) => void;
  private readonly keeper: StatusKeeper;
  private readonly pool: ConnectionPool;
  private readonly retryTimer: Timer;

  private phase: Phase = 'idle';
  /** Bumped whenever the listening socket is replaced, so late callbacks of an old one are ignored. */
  private generation = 0;
  private server: Server | null = null;
  private bound: { host: string; port: number } | null = null;
  private listenFailures = 0;
  private sequence = 0;
  private readonly refused = new Map<Socket, Timer>();
  private readonly closingServers = new Set<Promise<void>>();
  private closing: Promise<void> | null = null;

  constructor(options: ServerLinkOptions) {
    this.id = options.id;
    this.host = options.host;
    this.port = options.port;
    this.maxConnections = Math.max(1, options.maxConnections ?? 1);
    this.allowedPeers = new Set((options.allowedPeers ?? []).map(normalizeAddress));
    this.settings = connectionSettings(options);
    this.clock = this.settings.clock;
    this.random = options.random ?? Math.random;
    this.retryPolicy = backoffPolicy(options.listenRetry);
    this.listenFactory = options.listen ?? defaultListen;
    this.handlerFactory = options.handlerFactory;
    this.emit = eventSink(options.onEvent);
    this.retryTimer = new Timer(this.clock);
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

  address(): { host: string; port: number } | null {
    return this.bound ? { ...this.bound } : null;
  }

  start(): void {
    if (this.phase !== 'idle' && this.phase !== 'stopped') return;
    this.phase = 'running';
    this.listenFailures = 0;
    this.listen();
  }

  reconnect(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'running';
    this.retryTimer.disarm();
    this.stopListening();
    this.dropRefused();
    this.pool.endLive(RECONNECT_BY_USER);
    this.listenFailures = 0;
    this.listen();
  }

  disconnect(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'stopped';
    this.retryTimer.disarm();
    this.stopListening();
    this.dropRefused();
    this.pool.endLive(DISCONNECTED_BY_USER);
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
    this.stopListening();
    this.dropRefused();
    if (this.pool.size > 0) {
      this.keeper.update({
        reason: `stopping: letting the message in progress finish (at most ${formatDuration(deadlineMs)})`,
      });
    }
    await this.pool.shutdownAll(SHUTDOWN, deadlineAt, this.settings.closeGraceMs);
    await Promise.all([...this.closingServers]);
    this.phase = 'closed';
    stopped(this.keeper);
  }

  private listen(): void {
    const generation = ++this.generation;
    this.keeper.update({
      state: 'connecting',
      reason: `opening port ${this.port} on ${this.host}`,
      nextRetryAt: null,
      disconnectedByUser: false,
      ...this.peerFields(),
    });
    let server: Server;
    try {
      server = this.listenFactory((socket) => this.accept(generation, socket));
    } catch (error) {
      this.listenFailed(error);
      return;
    }
    this.server = server;
    server.on('error', (error) => {
      if (generation === this.generation) this.listenFailed(error);
    });
    try {
      server.listen({ host: this.host, port: this.port }, () =>
        this.onListening(generation, server),
      );
    } catch (error) {
      if (generation === this.generation) this.listenFailed(error);
    }
  }

  private onListening(generation: number, server: Server): void {
    if (generation !== this.generation || this.phase !== 'running') return;
    const address = server.address();
    if (!address || typeof address === 'string') return;
    this.bound = { host: address.address, port: address.port };
    this.listenFailures = 0;
    this.refreshStatus(`listening on ${this.endpoint()}, waiting for the analyzer`);
  }

  private listenFailed(error: unknown): void {
    const words = describeListenError(error, this.host, this.port);
    this.stopListening();
    this.emit({ type: 'error', code: 'LINK_LISTEN_FAILED', message: words });
    if (this.phase !== 'running') return;
    const delay = backoffDelay(this.listenFailures++, this.retryPolicy, this.random);
    this.keeper.update({
      state: 'error',
      reason: `cannot listen: ${words}; trying again in ${formatDuration(delay)}`,
      nextRetryAt: this.clock.now() + delay,
      disconnectedByUser: false,
      ...this.peerFields(),
    });
    this.retryTimer.arm(delay, () => {
      if (this.phase === 'running') this.listen();
    });
  }

  private stopListening(): void {
    this.generation++;
    const server = this.server;
    this.server = null;
    this.bound = null;
    if (!server) return;
    // The callback runs once the listening socket and every socket it accepted are closed.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.closingServers.add(closed);
    void closed.then(() => this.closingServers.delete(closed));
  }

  private accept(generation: number, socket: Socket, recheck = false): void {
    const remote = socket.remoteAddress;
    if (generation !== this.generation || this.phase !== 'running' || !remote) {
      socket.on('error', ignore);
      socket.destroy();
      return;
    }
    const host = normalizeAddress(remote);
    const peer = formatEndpoint(host, socket.remotePort);
    if (this.allowedPeers.size > 0 && !this.allowedPeers.has(host)) {
      const allowed = [...this.allowedPeers].join(', ');
      this.refuse(
        socket,
        peer,
        'LINK_PEER_NOT_ALLOWED',
        `refused ${peer}: ${host} is not in the allowed peers (${allowed})`,
      );
      return;
    }
    if (this.pool.live.length >= this.maxConnections && !recheck) {
      // An analyzer that closes and reconnects at once: its close may still be unread behind
      // data already handled, so look again once the pending reads are done before refusing.
      socket.pause();
      socket.on('error', ignore);
      setImmediate(() =>
        setImmediate(() => {
          socket.off('error', ignore);
          this.accept(generation, socket, true);
        }),
      );
      return;
    }
    const open = this.pool.live.length;
    if (open >= this.maxConnections) {
      const already = open === 1 ? '1 connection is' : `${open} connections are`;
      this.refuse(
        socket,
        peer,
        'LINK_TOO_MANY_CONNECTIONS',
        `refused ${peer}: ${already} already open and the limit is ${this.maxConnections}`,
      );
      return;
    }
    if (recheck) socket.resume();
    const connection = this.pool.open(socket, `${this.id}#${++this.sequence}`, peer, {
      closed: (closed, reason) => this.onConnectionClosed(closed, reason),
    });
    this.emit({ type: 'connected', connectionId: connection.id, peer });
    this.refreshStatus(`${peer} connected`);
    connection.attach(this.handlerFactory);
  }

  /** Says no with a clean end rather than a reset, and never lets the refused socket linger. */
  private refuse(
    socket: Socket,
    peer: string,
    code: 'LINK_TOO_MANY_CONNECTIONS' | 'LINK_PEER_NOT_ALLOWED',
    message: string,
  ): void {
    this.emit({ type: 'refused', peer, code, message });
    socket.on('error', ignore);
    const timer = new Timer(this.clock);
    this.refused.set(socket, timer);
    socket.once('close', () => {
      timer.disarm();
      this.refused.delete(socket);
    });
    socket.resume();
    socket.end();
    timer.arm(this.settings.closeGraceMs, () => socket.destroy());
  }

  private dropRefused(): void {
    for (const [socket, timer] of this.refused) {
      timer.disarm();
      socket.destroy();
    }
    this.refused.clear();
  }

  private onConnectionClosed(connection: SocketConnection, reason: LinkCloseReason): void {
    this.emit({ type: 'disconnected', connectionId: connection.id, peer: connection.peer, reason });
    const waiting =
      this.pool.live.length === 0 && this.bound
        ? '; waiting for the analyzer to connect again'
        : '';
    this.refreshStatus(`${connection.peer} disconnected: ${reason.message}${waiting}`);
  }

  /** Derives the state from the open connections and the listening socket. */
  private refreshStatus(reason: string): void {
    const fields = this.peerFields();
    if (this.phase !== 'running') {
      this.keeper.update(fields);
      return;
    }
    const common: StatusChange = {
      reason,
      nextRetryAt: null,
      disconnectedByUser: false,
      ...fields,
    };
    if (fields.connections > 0) this.keeper.update({ state: 'connected', ...common });
    else if (this.bound) this.keeper.update({ state: 'listening', ...common });
    // Otherwise a listen retry is pending and its error stays the headline.
    else this.keeper.update(fields);
  }

  private peerFields(): { peers: string[]; connections: number } {
    const live = this.pool.live;
    return { peers: live.map((connection) => connection.peer), connections: live.length };
  }

  private endpoint(): string {
    return formatEndpoint(this.host, this.bound?.port ?? this.port);
  }
}

function ignore(): void {}
