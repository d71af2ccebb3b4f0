/**
 * Delivery to one destination: reads its pending entries in batches, oldest first, sends up to
 * `window` at a time, and records the outcomes in batched transactions. A transient failure
 * pauses the whole destination with exponential backoff and jitter (the LIS is down or busy) and
 * then resumes from its oldest pending entry, so one instrument's messages arrive in the order
 * they were stored; a permanent one marks the entry failed and delivery goes on.
 */
import type { DestinationConfig } from '../../src-shared/config';
import { backoffDelay } from '../links/backoff';
import { Timer, type Clock } from '../protocols/clock';
import type { AttemptRecord, DeliveryItem } from '../store/outbox';
import type { Store } from '../store/store';
import { buildPayload, type InstrumentSettings, type Payload } from './payloads';
import {
  createTransport,
  type SendOutcome,
  type Transport,
  type TransportDeps,
} from './transports';

/** Entries read per batch; a few milliseconds of work. */
const READ_BATCH = 200;
/** Outcomes recorded per transaction at most before the next read. */
const RECORD_BATCH = 500;
/** How often an idle destination looks for entries resent or released from elsewhere. */
export const POLL_MS = 1_000;
/** Records wait this long at most to join others in one transaction. */
const RECORD_DELAY_MS = 20;

export type WorkerState = 'idle' | 'delivering' | 'waiting' | 'retrying' | 'held' | 'disabled';

export interface WorkerDeps {
  store: Store;
  clock: Clock;
  random?: () => number;
  instrument: (id: string) => InstrumentSettings | null;
  log: (level: 'info' | 'warn' | 'error', code: string | null, message: string) => void;
  /** Something the status shows changed. */
  changed: () => void;
  transport?: (config: DestinationConfig, deps: TransportDeps) => Transport;
  env?: NodeJS.ProcessEnv;
}

export interface WorkerStatus {
  state: WorkerState;
  /** Plain words for the state. */
  reason: string;
  nextRetryAt: number | null;
  inFlight: number;
  sent: number;
  delivered: number;
  failed: number;
  retried: number;
}

export class DestinationWorker {
  private readonly transport: Transport;
  private readonly retryTimer: Timer;
  private readonly pollTimer: Timer;
  private queue: DeliveryItem[] = [];
  private readonly inFlight = new Set<number>();
  private cursor = 0;
  private failures = 0;
  private retryAt: number | null = null;
  private records: AttemptRecord[] = [];
  /** Entries settled whose outcome is not recorded yet: still pending in the database. */
  private readonly settledIds = new Set<number>();
  private readonly recordTimer: Timer;
  private pumpScheduled: NodeJS.Immediate | null = null;
  private closed = false;
  private lastRetryError: string | null = null;
  private readonly counters = { sent: 0, delivered: 0, failed: 0, retried: 0 };

  constructor(
    readonly config: DestinationConfig,
    private held: boolean,
    private readonly deps: WorkerDeps,
  ) {
    this.retryTimer = new Timer(deps.clock);
    this.pollTimer = new Timer(deps.clock);
    this.recordTimer = new Timer(deps.clock);
    const transportDeps: TransportDeps = {
      clock: deps.clock,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.env ? { env: deps.env } : {}),
      note: (level, code, message) => {
        deps.log(level, code, message);
        deps.changed();
      },
      ready: () => this.wake(),
    };
    this.transport = (deps.transport ?? createTransport)(config, transportDeps);
  }

  start(): void {
    if (!this.config.enabled) return;
    this.transport.start();
    this.wake();
  }

  get isHeld(): boolean {
    return this.held;
  }

  setHeld(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    this.deps.changed();
    if (!held) this.wake();
  }

  /** New entries, a release or a resend: look for work soon (never inside the caller's turn). */
  wake(): void {
    if (this.closed || this.pumpScheduled !== null) return;
    this.pumpScheduled = setImmediate(() => {
      this.pumpScheduled = null;
      this.pump();
    });
  }

  /** Sends again now instead of at the end of the backoff (a user asked for it). */
  retryNow(): void {
    if (this.retryAt === null) return;
    this.retryTimer.disarm();
    this.retryAt = null;
    this.wake();
  }

  status(): WorkerStatus {
    const base = { ...this.counters, inFlight: this.inFlight.size, nextRetryAt: this.retryAt };
    if (!this.config.enabled)
      return { ...base, state: 'disabled', reason: 'disabled in its settings' };
    if (this.held)
      return { ...base, state: 'held', reason: 'on hold: nothing is sent until it is released' };
    if (this.retryAt !== null) {
      return { ...base, state: 'retrying', reason: this.lastRetryError ?? 'retrying' };
    }
    const notReady = this.transport.notReady;
    if (notReady !== null) return { ...base, state: 'waiting', reason: notReady };
    if (this.inFlight.size > 0 || this.queue.length > 0) {
      return { ...base, state: 'delivering', reason: 'delivering' };
    }
    return { ...base, state: 'idle', reason: 'nothing waiting' };
  }

  /** Writes the outcomes waiting to be recorded now. */
  flush(): void {
    this.recordTimer.disarm();
    if (this.records.length === 0) return;
    const records = this.records;
    this.records = [];
    this.settledIds.clear();
    try {
      this.deps.store.recordAttempts(records);
    } catch (error) {
      // Not recorded: the entries stay pending and are sent again (same control IDs).
      this.deps.log(
        'error',
        'FORWARD_RECORD_FAILED',
        `could not record deliveries: ${(error as Error).message}`,
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retryTimer.disarm();
    this.pollTimer.disarm();
    if (this.pumpScheduled !== null) clearImmediate(this.pumpScheduled);
    this.pumpScheduled = null;
    await this.transport.close();
    this.flush();
  }

  private pumping = false;

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.pumpOnce();
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    if (this.closed || !this.config.enabled || this.held || this.retryAt !== null) return;
    if (this.transport.notReady !== null) {
      this.deps.changed();
      return;
    }
    while (this.inFlight.size < this.transport.window) {
      if (this.queue.length === 0 && !this.refill()) break;
      const item = this.queue.shift()!;
      this.sendOne(item);
    }
    if (this.inFlight.size === 0 && this.queue.length === 0) {
      this.pollTimer.arm(POLL_MS, () => this.poll());
    }
  }

  private refill(): boolean {
    // Entries settled but not yet recorded are still pending in the database: skipped here, so
    // that a steady stream costs one read per message and one commit per batch of outcomes.
    const items = this.deps.store
      .pendingDeliveries(this.config.id, this.cursor, READ_BATCH)
      .filter((item) => !this.inFlight.has(item.id) && !this.settledIds.has(item.id));
    if (items.length === 0) {
      this.cursor = 0;
      return false;
    }
    this.cursor = items[items.length - 1]!.id;
    this.queue = items;
    this.deps.changed();
    return true;
  }

  private poll(): void {
    if (this.closed || this.inFlight.size > 0) return;
    let due = false;
    try {
      due = this.deps.store.hasDueDeliveries(this.config.id);
    } catch {
      due = false;
    }
    if (due) this.pump();
    else this.pollTimer.arm(POLL_MS, () => this.poll());
  }

  private sendOne(item: DeliveryItem): void {
    let payload: Payload;
    try {
      payload = buildPayload(
        item,
        this.config,
        this.deps.instrument(item.instrumentId),
        this.deps.clock.now(),
      );
    } catch (error) {
      this.settle(item, null, {
        kind: 'failed',
        answer: null,
        error: `the gateway could not build what to send: ${(error as Error).message}`,
      });
      return;
    }
    this.inFlight.add(item.id);
    this.counters.sent++;
    this.transport.send(payload).then(
      (outcome) => this.settle(item, payload, outcome),
      (error: unknown) =>
        this.settle(item, payload, { kind: 'retry', answer: null, error: String(error) }),
    );
  }

  private settle(item: DeliveryItem, payload: Payload | null, outcome: SendOutcome): void {
    this.inFlight.delete(item.id);
    const now = this.deps.clock.now();
    const record: AttemptRecord = {
      entryId: item.id,
      at: now,
      outcome: outcome.kind,
      sent: payload?.text ?? '',
      answer: outcome.answer,
      error: outcome.kind === 'delivered' ? null : outcome.error,
    };
    if (outcome.kind === 'delivered') {
      this.counters.delivered++;
      if (this.failures > 0 || this.lastRetryError !== null) {
        this.deps.log('info', null, 'delivering again');
      }
      this.failures = 0;
      this.lastRetryError = null;
    } else if (outcome.kind === 'failed') {
      this.counters.failed++;
      this.deps.log(
        'error',
        'FORWARD_REJECTED',
        `message ${item.messageId} (${payload?.controlId ?? 'not sent'}) failed: ${outcome.error}`,
      );
    } else {
      this.counters.retried++;
      const delay = backoffDelay(this.failures, this.config.retry, this.deps.random ?? Math.random);
      this.failures++;
      record.nextAttemptAt = now + delay;
      this.backOff(delay, outcome.error, item);
    }
    this.records.push(record);
    // A retried entry is read again after the backoff, recorded or not.
    if (outcome.kind !== 'retry') this.settledIds.add(item.id);
    if (this.records.length >= RECORD_BATCH) this.flush();
    else if (!this.recordTimer.armed) this.recordTimer.arm(RECORD_DELAY_MS, () => this.flush());
    this.deps.changed();
    // The next message goes at once (an answer arrives in its own turn, never in a commit's).
    if (this.retryAt === null) {
      if (this.pumping) this.wake();
      else this.pump();
    }
  }

  private backOff(delay: number, error: string, item: DeliveryItem): void {
    if (this.retryAt !== null) return;
    const seconds = Math.max(1, Math.round(delay / 1000));
    if (this.lastRetryError !== error) {
      this.deps.log(
        'warn',
        'FORWARD_RETRY',
        `message ${item.messageId} not delivered: ${error}; trying again in ${seconds} s`,
      );
    }
    this.lastRetryError = error;
    this.queue = [];
    this.cursor = 0;
    this.retryAt = this.deps.clock.now() + delay;
    this.pollTimer.disarm();
    this.retryTimer.arm(delay, () => {
      this.retryAt = null;
      this.deps.changed();
      this.pump();
    });
  }
}
