import { Timer, type Clock } from '../protocols/clock';
import { closeReason, PEER_CLOSED } from './reasons';
import type {
  ConnectionHandler,
  HandlerFactory,
  LinkCloseReason,
  LinkConnection,
  LinkErrorCode,
  LinkEvent,
} from './types';
import { describeSocketError, formatBytes, formatDuration } from './words';

/**
 * What a connection needs of its byte stream: a TCP socket fits as it is; a serial port is
 * wrapped to fit (links/serial-stream.ts).
 */
export interface ByteStream {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  write(bytes: Buffer): boolean;
  /** Ends politely: what was written goes out, then the stream closes. */
  end(): unknown;
  destroy(): unknown;
  readonly writable: boolean;
  /** Bytes written and not yet sent. */
  readonly writableLength: number;
  /** TCP only. */
  setNoDelay?(noDelay: boolean): unknown;
  setKeepAlive?(enable: boolean, delayMs: number): unknown;
}

export interface ConnectionSettings {
  clock: Clock;
  keepAliveMs: number;
  idleTimeoutMs: number;
  maxBufferedBytes: number;
  maxSendBufferedBytes: number;
  closeGraceMs: number;
}

export interface ConnectionHooks {
  emit(event: LinkEvent): void;
  /** A byte went in or out at this time. */
  activity(at: number): void;
  /** Bytes arrived and the handler has seen them. */
  received?(): void;
  /** Something happened that may have ended the handler's message in flight. */
  progress(): void;
  /** The socket is gone; called once. */
  closed(connection: SocketConnection, reason: LinkCloseReason): void;
}

/**
 * One socket and its handler. Owns what every socket needs: no-delay, keepalive, the idle
 * timeout, both byte limits, the trace, and a close that ends politely before destroying.
 * Nothing a handler or the socket does escapes as an exception.
 */
export class SocketConnection implements LinkConnection {
  private handler: ConnectionHandler | null = null;
  private reason: LinkCloseReason | null = null;
  private ending = false;
  private finished = false;
  private readonly idleTimer: Timer;
  private readonly graceTimer: Timer;
  private destroyAt = Infinity;
  /** Bytes read and written so far: the stream offsets the trace records. */
  private received = 0;
  private sent = 0;
  private resolveClosed!: () => void;
  /** Settles once the socket has closed and the handler has been told. */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(
    readonly id: string,
    readonly peer: string,
    private readonly socket: ByteStream,
    private readonly settings: ConnectionSettings,
    private readonly hooks: ConnectionHooks,
  ) {
    this.idleTimer = new Timer(settings.clock);
    this.graceTimer = new Timer(settings.clock);
    socket.on('error', (error) => this.onSocketError(error));
    // Our side ends too, even on a socket built to allow half-open connections, so a peer that
    // has left never holds a connection slot.
    socket.on('end', () => this.end(PEER_CLOSED, settings.closeGraceMs));
    socket.on('close', () => this.finish());
    try {
      socket.setNoDelay?.(true);
      if (settings.keepAliveMs > 0) socket.setKeepAlive?.(true, settings.keepAliveMs);
    } catch {
      // A socket that died between accept and here reports it through 'close'.
    }
  }

  /** Creates the handler and starts reading. Separate from the constructor so `connected` goes out first. */
  attach(factory: HandlerFactory): void {
    if (this.ending || this.finished) return;
    try {
      this.handler = factory(this);
    } catch (error) {
      this.fail('LINK_HANDLER_FAILED', `the protocol handler could not start: ${text(error)}`);
      return;
    }
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.armIdle();
  }

  /** Not closing and not closed. */
  get live(): boolean {
    return !this.ending && !this.finished;
  }

  get busy(): boolean {
    if (!this.live || !this.handler) return false;
    try {
      return this.handler.busy;
    } catch {
      return false;
    }
  }

  write(bytes: Buffer): boolean {
    if (!this.live || !this.socket.writable) return false;
    const at = this.settings.clock.now();
    const offset = this.sent;
    this.sent += bytes.length;
    this.hooks.emit({ type: 'trace', connectionId: this.id, direction: 'out', bytes, at, offset });
    this.hooks.activity(at);
    this.socket.write(bytes);
    const waiting = this.socket.writableLength;
    if (waiting > this.settings.maxSendBufferedBytes) {
      // A peer that stopped reading will never drain this, so ending politely would only wait.
      this.fail(
        'LINK_SEND_BUFFER_LIMIT',
        `closed the connection: ${formatBytes(waiting)} waiting to be sent because the analyzer is not reading (the limit is ${formatBytes(this.settings.maxSendBufferedBytes)})`,
        'destroy',
      );
      return false;
    }
    this.queueProgress();
    return true;
  }

  close(reason: LinkCloseReason): void {
    this.end(reason, this.settings.closeGraceMs);
  }

  /** Ends politely; destroys after `graceMs` if the other side has not closed by then (0: now). */
  end(reason: LinkCloseReason, graceMs: number): void {
    if (this.finished) return;
    this.noteReason(reason);
    if (!this.ending) {
      this.ending = true;
      this.idleTimer.disarm();
      this.queueProgress();
      if (graceMs > 0) this.socket.end();
    }
    const clock = this.settings.clock;
    if (graceMs <= 0) {
      this.graceTimer.disarm();
      this.socket.destroy();
    } else if (clock.now() + graceMs < this.destroyAt) {
      this.destroyAt = clock.now() + graceMs;
      this.graceTimer.arm(graceMs, () => this.socket.destroy());
    }
  }

  /** Asks the protocol to finish properly (graceful shutdown). */
  shutdown(): void {
    if (!this.live || !this.handler?.shutdown) return;
    try {
      this.handler.shutdown();
    } catch (error) {
      this.fail(
        'LINK_HANDLER_FAILED',
        `the protocol handler failed while stopping: ${text(error)}`,
      );
    }
  }

  private receive(chunk: Buffer): void {
    if (this.finished) return;
    const at = this.settings.clock.now();
    const offset = this.received;
    this.received += chunk.length;
    this.hooks.emit({
      type: 'trace',
      connectionId: this.id,
      direction: 'in',
      bytes: chunk,
      at,
      offset,
    });
    this.hooks.activity(at);
    // Once closing, bytes are traced but not handed on: nothing received now could be acknowledged.
    if (this.ending || !this.handler) return;
    this.armIdle();
    let held: number;
    try {
      this.handler.onData(chunk);
      held = this.handler.buffered;
    } catch (error) {
      this.fail('LINK_HANDLER_FAILED', `the protocol handler failed: ${text(error)}`);
      return;
    }
    if (held > this.settings.maxBufferedBytes) {
      this.fail(
        'LINK_BUFFER_LIMIT',
        `closed the connection: ${formatBytes(held)} waiting in the buffer (the limit is ${formatBytes(this.settings.maxBufferedBytes)})`,
      );
      return;
    }
    this.hooks.received?.();
    this.queueProgress();
  }

  private armIdle(): void {
    const idleMs = this.settings.idleTimeoutMs;
    if (idleMs <= 0 || !this.live) return;
    this.idleTimer.arm(idleMs, () =>
      this.fail(
        'LINK_IDLE_TIMEOUT',
        `closed the connection: nothing received for ${formatDuration(idleMs)}; the analyzer may be off or the network cut (half-open connection)`,
      ),
    );
  }

  private fail(code: LinkErrorCode, message: string, how: 'end' | 'destroy' = 'end'): void {
    if (!this.live) return;
    this.hooks.emit({ type: 'error', code, message, connectionId: this.id, peer: this.peer });
    this.end(closeReason(code, message), how === 'destroy' ? 0 : this.settings.closeGraceMs);
  }

  private onSocketError(error: Error): void {
    this.noteReason(closeReason('LINK_SOCKET_ERROR', describeSocketError(error)));
  }

  private noteReason(reason: LinkCloseReason): void {
    this.reason ??= reason;
  }

  /** Deferred so the handler finishes the call it is in before its `busy` is read again. */
  private queueProgress(): void {
    queueMicrotask(() => this.hooks.progress());
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.ending = true;
    this.idleTimer.disarm();
    this.graceTimer.disarm();
    const reason = this.reason ?? PEER_CLOSED;
    try {
      this.handler?.onClose(reason);
    } catch {
      // The connection is gone either way; a failing handler must not keep the link from noticing.
    }
    this.hooks.closed(this, reason);
    this.resolveClosed();
  }
}

/**
 * The connections of one link. Graceful shutdown lives here: ask each handler to stop, wait until
 * none is busy or the deadline passes, then end the sockets and wait until they are all gone.
 */
export class ConnectionPool {
  private readonly all = new Set<SocketConnection>();
  private recheck: (() => void) | null = null;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly hooks: Pick<ConnectionHooks, 'emit' | 'activity'>,
  ) {}

  open(
    socket: ByteStream,
    id: string,
    peer: string,
    own: Pick<ConnectionHooks, 'received' | 'closed'>,
  ): SocketConnection {
    const connection = new SocketConnection(id, peer, socket, this.settings, {
      emit: this.hooks.emit,
      activity: this.hooks.activity,
      received: own.received,
      progress: () => this.recheck?.(),
      closed: (closed, reason) => {
        this.all.delete(closed);
        own.closed(closed, reason);
        this.recheck?.();
      },
    });
    this.all.add(connection);
    return connection;
  }

  /** Connections that are neither closing nor closed. */
  get live(): SocketConnection[] {
    return [...this.all].filter((connection) => connection.live);
  }

  get size(): number {
    return this.all.size;
  }

  endLive(reason: LinkCloseReason): void {
    for (const connection of this.live) connection.close(reason);
  }

  /** Calls every handler's shutdown, then waits until no handler is busy or `deadlineAt` passes. */
  async drain(deadlineAt: number): Promise<void> {
    for (const connection of this.live) connection.shutdown();
    const clock = this.settings.clock;
    if (!this.anyBusy() || deadlineAt <= clock.now()) return;
    await new Promise<void>((resolve) => {
      const poll = new Timer(clock);
      const deadline = new Timer(clock);
      const check = () => {
        if (this.anyBusy()) return;
        finish();
      };
      const finish = () => {
        poll.disarm();
        deadline.disarm();
        if (this.recheck === check) this.recheck = null;
        resolve();
      };
      // `busy` has no change notification, so besides rechecking on traffic it is polled.
      const tick = () => {
        check();
        if (this.recheck === check) poll.arm(BUSY_POLL_MS, tick);
      };
      this.recheck = check;
      poll.arm(BUSY_POLL_MS, tick);
      deadline.arm(deadlineAt - clock.now(), finish);
    });
  }

  /** Ends every connection (destroying those still open after `graceMs`) and waits for all of them. */
  async endAll(reason: LinkCloseReason, graceMs: number): Promise<void> {
    const connections = [...this.all];
    for (const connection of connections) connection.end(reason, graceMs);
    await Promise.all(connections.map((connection) => connection.closed));
  }

  /**
   * Graceful shutdown of every connection: drain, then end the sockets, giving them what is left
   * of the deadline (at most `graceMs`) to close before they are destroyed.
   */
  async shutdownAll(reason: LinkCloseReason, deadlineAt: number, graceMs: number): Promise<void> {
    await this.drain(deadlineAt);
    const left = Math.max(0, deadlineAt - this.settings.clock.now());
    await this.endAll(reason, Math.min(graceMs, left));
  }

  private anyBusy(): boolean {
    for (const connection of this.all) if (connection.busy) return true;
    return false;
  }
}

const BUSY_POLL_MS = 50;

function text(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
