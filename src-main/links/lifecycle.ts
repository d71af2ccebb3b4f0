import { Timer, type Clock } from '../protocols/clock';
import { backoffDelay, type BackoffPolicy } from './backoff';
import {
  ConnectionPool,
  type ConnectionHooks,
  type ByteStream,
  type ConnectionSettings,
  type SocketConnection,
} from './connection';
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
  LinkEvent,
  LinkBaseOptions,
  LinkState,
} from './types';
import { formatDuration } from './words';

type Phase = 'idle' | 'running' | 'stopped' | 'closing' | 'closed';

/**
 * What every link does the same way, whether it listens or connects: start, manual reconnect and
 * disconnect, retries with backoff, graceful close with a deadline, the status it shows, and the
 * pool of its connections. A subclass says only how it opens (listen or connect) and what it must
 * stop when the link is dropped.
 */
export abstract class LinkLifecycle implements Link {
  readonly id: string;
  protected readonly settings: ConnectionSettings;
  protected readonly clock: Clock;
  protected readonly handlerFactory: HandlerFactory;
  protected readonly emit: (event: LinkEvent) => void;
  protected readonly keeper: StatusKeeper;
  protected readonly pool: ConnectionPool;
  /** Failed attempts since the last one that held: the backoff step. */
  protected failures = 0;

  private readonly random: () => number;
  private readonly retryPolicy: BackoffPolicy;
  private readonly retryTimer: Timer;
  private phase: Phase = 'idle';
  private sequence = 0;
  private closing: Promise<void> | null = null;

  constructor(options: LinkBaseOptions, retry: Partial<BackoffPolicy> | undefined) {
    this.id = options.id;
    this.settings = connectionSettings(options);
    this.clock = this.settings.clock;
    this.random = options.random ?? Math.random;
    this.retryPolicy = backoffPolicy(retry);
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

  /** Starts listening or connecting. */
  protected abstract open(): void;

  /** Stops what `open` started (attempts, listening socket, side timers); the pool is not touched. */
  protected abstract stopOpening(): void;

  /** Waits for what `stopOpening` let go of to be fully released, after the connections closed. */
  protected released(): Promise<void> {
    return Promise.resolve();
  }

  get status() {
    return this.keeper.status;
  }

  start(): void {
    if (this.phase !== 'idle' && this.phase !== 'stopped') return;
    this.phase = 'running';
    this.failures = 0;
    this.open();
  }

  reconnect(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'running';
    this.failures = 0;
    this.drop(RECONNECT_BY_USER);
    this.open();
  }

  disconnect(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'stopped';
    this.drop(DISCONNECTED_BY_USER);
    disconnectedByUser(this.keeper, DISCONNECTED_BY_USER.message, this.peerFields());
  }

  close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS): Promise<void> {
    this.closing ??= this.shutdown(deadlineMs);
    return this.closing;
  }

  /** Started and neither stopped by the user nor closing: attempts and retries may go on. */
  protected get running(): boolean {
    return this.phase === 'running';
  }

  /** Shows a state reached on the way to talking to the analyzer, with no retry pending. */
  protected announce(state: LinkState, reason: string): void {
    this.keeper.update({
      state,
      reason,
      nextRetryAt: null,
      disconnectedByUser: false,
      ...this.peerFields(),
    });
  }

  /** Shows why the last attempt failed and calls `open` again after the next backoff delay. */
  protected retryLater(state: 'reconnecting' | 'error', why: string): void {
    const delay = backoffDelay(this.failures++, this.retryPolicy, this.random);
    this.keeper.update({
      state,
      reason: `${why}; trying again in ${formatDuration(delay)}`,
      nextRetryAt: this.clock.now() + delay,
      disconnectedByUser: false,
      ...this.peerFields(),
    });
    this.retryTimer.arm(delay, () => {
      if (this.running) this.open();
    });
  }

  /** Adds an accepted or connected socket (or an opened port) to the pool under the link's next connection ID. */
  protected adopt(
    socket: ByteStream,
    peer: string,
    hooks: Pick<ConnectionHooks, 'received' | 'closed'>,
  ): SocketConnection {
    return this.pool.open(socket, `${this.id}#${++this.sequence}`, peer, hooks);
  }

  protected peerFields(): { peers: string[]; connections: number } {
    const live = this.pool.live;
    return { peers: live.map((connection) => connection.peer), connections: live.length };
  }

  /** Stops every timer and attempt and ends the open connections; what follows is up to the caller. */
  private drop(reason: LinkCloseReason): void {
    this.retryTimer.disarm();
    this.stopOpening();
    this.pool.endLive(reason);
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const deadlineAt = this.clock.now() + Math.max(0, deadlineMs);
    this.phase = 'closing';
    this.retryTimer.disarm();
    this.stopOpening();
    if (this.pool.size > 0) {
      this.keeper.update({
        reason: `stopping: letting the message in progress finish (at most ${formatDuration(deadlineMs)})`,
      });
    }
    await this.pool.shutdownAll(SHUTDOWN, deadlineAt, this.settings.closeGraceMs);
    await this.released();
    this.phase = 'closed';
    stopped(this.keeper);
  }
}
