import { createServer, type Server, type Socket } from 'node:net';
import { Timer } from '../protocols/clock';
import type { BackoffPolicy } from './backoff';
import type { SocketConnection } from './connection';
import { LinkLifecycle } from './lifecycle';
import type { Link, LinkCloseReason, LinkOptions } from './types';
import { describeListenError, formatEndpoint, normalizeAddress } from './words';

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
  /** Who connects, in the status words ("waiting for the LIS"). Default "the analyzer". */
  peerName?: string;
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

const defaultListen: ListenFactory = (onConnection) => createServer(onConnection);

class TcpServerLink extends LinkLifecycle implements ServerLink {
  private readonly host: string;
  private readonly port: number;
  private readonly maxConnections: number;
  private readonly allowedPeers: Set<string>;
  private readonly listenFactory: ListenFactory;
  private readonly peerName: string;

  /** Bumped whenever the listening socket is replaced, so late callbacks of an old one are ignored. */
  private generation = 0;
  private server: Server | null = null;
  private bound: { host: string; port: number } | null = null;
  private readonly refused = new Map<Socket, Timer>();
  private readonly closingServers = new Set<Promise<void>>();

  constructor(options: ServerLinkOptions) {
    super(options, options.listenRetry);
    this.host = options.host;
    this.port = options.port;
    this.maxConnections = Math.max(1, options.maxConnections ?? 1);
    this.allowedPeers = new Set((options.allowedPeers ?? []).map(normalizeAddress));
    this.listenFactory = options.listen ?? defaultListen;
    this.peerName = options.peerName ?? 'the analyzer';
  }

  address(): { host: string; port: number } | null {
    return this.bound ? { ...this.bound } : null;
  }

  /** Opens the listening socket. */
  protected open(): void {
    const generation = ++this.generation;
    this.announce('connecting', `opening port ${this.port} on ${this.host}`);
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

  protected stopOpening(): void {
    this.stopListening();
    this.dropRefused();
  }

  protected override async released(): Promise<void> {
    await Promise.all([...this.closingServers]);
  }

  private onListening(generation: number, server: Server): void {
    if (generation !== this.generation || !this.running) return;
    const address = server.address();
    if (!address || typeof address === 'string') return;
    this.bound = { host: address.address, port: address.port };
    this.failures = 0;
    this.refreshStatus(`listening on ${this.endpoint()}, waiting for ${this.peerName}`);
  }

  private listenFailed(error: unknown): void {
    const words = describeListenError(error, this.host, this.port);
    this.stopListening();
    this.emit({ type: 'error', code: 'LINK_LISTEN_FAILED', message: words });
    if (this.running) this.retryLater('error', `cannot listen: ${words}`);
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
    if (generation !== this.generation || !this.running || !remote) {
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
    const connection = this.adopt(socket, peer, {
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
        ? `; waiting for ${this.peerName} to connect again`
        : '';
    this.refreshStatus(`${connection.peer} disconnected: ${reason.message}${waiting}`);
  }

  /** Derives the state from the open connections and the listening socket. */
  private refreshStatus(reason: string): void {
    if (this.running && this.pool.live.length > 0) this.announce('connected', reason);
    else if (this.running && this.bound) this.announce('listening', reason);
    // Otherwise stopped, closing, or a listen retry is pending and its error stays the headline.
    else this.keeper.update(this.peerFields());
  }

  private endpoint(): string {
    return formatEndpoint(this.host, this.bound?.port ?? this.port);
  }
}

function ignore(): void {}
