/**
 * Group commit. Links enqueue messages as they complete; everything enqueued during one turn of
 * the event loop is written by one transaction at the next `setImmediate`, so one fsync serves
 * every busy link, and each caller learns its message is durable when its promise resolves (and
 * only then may it acknowledge). Events and trace entries ride along in the same transactions and
 * are otherwise written every `sideFlushMs` or `sideFlushEntries`, whichever comes first; nobody
 * waits for them.
 */
import { StoreError, storeErrorFrom } from './errors';
import type { EventRow, MessageRow, TraceRow } from './prepare';
import type { InsertOutcome, WriteFailure } from './types';

export interface WriteBatch {
  messages: MessageRow[];
  events: EventRow[];
  trace: TraceRow[];
}

export interface BatchOutcome {
  messages: InsertOutcome[];
  events: number[];
  trace: number[];
}

/** Writes a batch in one transaction: all of it, or nothing and an error. */
export type BatchWriter = (batch: WriteBatch) => BatchOutcome;

export interface WriteQueueOptions {
  /** Messages per transaction at most; more wait for the next turn. Default 1000. */
  maxBatch?: number;
  /** Longest time an event or trace entry waits when no message comes. Default 200 ms. */
  sideFlushMs?: number;
  /** Events and trace entries that trigger a write without waiting. Default 500. */
  sideFlushEntries?: number;
  onFailure?: (failure: WriteFailure) => void;
}

interface PendingMessage {
  row: MessageRow;
  resolve: (outcome: InsertOutcome) => void;
  reject: (error: StoreError) => void;
}

export class WriteQueue {
  private messages: PendingMessage[] = [];
  private events: EventRow[] = [];
  private trace: TraceRow[] = [];
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly sideFlushMs: number;
  private readonly sideFlushEntries: number;

  constructor(
    private readonly write: BatchWriter,
    private readonly options: WriteQueueOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.sideFlushMs = Math.max(0, options.sideFlushMs ?? 200);
    this.sideFlushEntries = Math.max(1, options.sideFlushEntries ?? 500);
  }

  enqueueMessage(row: MessageRow): Promise<InsertOutcome> {
    if (this.closed) return Promise.reject(closedError('save the message'));
    return new Promise((resolve, reject) => {
      this.messages.push({ row, resolve, reject });
      this.scheduleNow();
    });
  }

  enqueueEvent(row: EventRow): void {
    if (this.closed) throw closedError('save the event');
    this.events.push(row);
    this.scheduleSide();
  }

  enqueueTrace(row: TraceRow): void {
    if (this.closed) throw closedError('save the trace');
    this.trace.push(row);
    this.scheduleSide();
  }

  get pending(): { messages: number; events: number; trace: number } {
    return { messages: this.messages.length, events: this.events.length, trace: this.trace.length };
  }

  /** Writes everything pending now, in as few transactions as `maxBatch` allows. */
  flush(): void {
    this.cancelSchedules();
    while (this.messages.length > 0 || this.events.length > 0 || this.trace.length > 0) {
      this.writeOneBatch();
    }
  }

  /** Writes what is pending, then refuses new work. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }

  private scheduleNow(): void {
    if (this.immediate !== null) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.writeOneBatch();
      if (this.messages.length > 0) this.scheduleNow();
    });
  }

  private scheduleSide(): void {
    if (this.events.length + this.trace.length >= this.sideFlushEntries) {
      this.scheduleNow();
      return;
    }
    if (this.timer !== null || this.immediate !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writeOneBatch();
    }, this.sideFlushMs);
    this.timer.unref();
  }

  private cancelSchedules(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
  }

  private writeOneBatch(): void {
    const messages = this.messages.splice(0, this.maxBatch);
    const events = this.events;
    const trace = this.trace;
    this.events = [];
    this.trace = [];
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (messages.length === 0 && events.length === 0 && trace.length === 0) return;

    let outcomes: InsertOutcome[];
    try {
      outcomes = this.write({ messages: messages.map((m) => m.row), events, trace }).messages;
    } catch (thrown) {
      const error = storeErrorFrom(thrown, describe(messages.length));
      for (const message of messages) message.reject(error);
      this.options.onFailure?.({
        error,
        messages: messages.length,
        events: events.length,
        trace: trace.length,
      });
      return;
    }
    messages.forEach((message, index) => {
      const outcome = outcomes[index];
      if (outcome) message.resolve(outcome);
      else message.reject(new StoreError('STORE_WRITE_FAILED', 'the message was not saved'));
    });
  }
}

function describe(messages: number): string {
  if (messages === 0) return 'save the event log and trace';
  return messages === 1 ? 'save the message' : `save ${messages} messages`;
}

function closedError(action: string): StoreError {
  return new StoreError('STORE_CLOSED', `could not ${action}: the database is closed`);
}
