/**
 * Group commit. Links enqueue messages as they complete; everything enqueued during one turn of
 * the event loop is written by one transaction at the next `setImmediate`, so one fsync serves
 * every busy link, and each caller learns its message is durable when its promise resolves (and
 * only then may it acknowledge). Events ride along in those transactions. The session trace, and
 * whatever else the store does after messages (search indexing, checkpoints), is side work: done
 * every `sideFlushMs` after a write, or once `sideFlushEntries` events and trace entries wait, in
 * transactions of its own so that it never delays an acknowledgement's commit; nobody waits for it.
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
/**
 * Writes the events and trace entries (either may be empty) and does the store's other side work;
 * throws when the entries were not stored.
 */
export type SideWriter = (events: EventRow[], trace: TraceRow[]) => void;

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
  private sideImmediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly sideFlushMs: number;
  private readonly sideFlushEntries: number;

  constructor(
    private readonly write: BatchWriter,
    private readonly writeSide: SideWriter,
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
    while (this.messages.length > 0) this.writeOneBatch();
    this.runSide();
  }

  /** Writes the waiting events and trace entries now, without the messages. */
  flushSide(): void {
    if (this.events.length === 0 && this.trace.length === 0) return;
    if (this.sideImmediate !== null) clearImmediate(this.sideImmediate);
    this.sideImmediate = null;
    this.runSide();
  }

  /** Side work is due: a write happened that it follows up on. */
  wake(): void {
    if (!this.closed) this.scheduleSide();
  }

  /** Side work is due and should not wait for the timer: more of a backlog, say. */
  wakeSoon(): void {
    if (this.closed || this.sideImmediate !== null) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.sideImmediate = setImmediate(() => {
      this.sideImmediate = null;
      this.runSide();
    });
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
      else this.scheduleSide();
    });
  }

  private scheduleSide(): void {
    if (this.events.length + this.trace.length >= this.sideFlushEntries) {
      if (this.sideImmediate !== null) return;
      this.sideImmediate = setImmediate(() => {
        this.sideImmediate = null;
        this.runSide();
      });
      return;
    }
    if (this.timer !== null || this.sideImmediate !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runSide();
    }, this.sideFlushMs);
    this.timer.unref();
  }

  private cancelSchedules(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.sideImmediate !== null) clearImmediate(this.sideImmediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.sideImmediate = null;
    this.timer = null;
  }

  private runSide(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const events = this.events;
    const trace = this.trace;
    this.events = [];
    this.trace = [];
    try {
      this.writeSide(events, trace);
    } catch (thrown) {
      this.options.onFailure?.({
        error: storeErrorFrom(thrown, describe(0)),
        messages: 0,
        events: events.length,
        trace: trace.length,
      });
    }
  }

  private writeOneBatch(): void {
    const messages = this.messages.splice(0, this.maxBatch);
    const events = this.events;
    this.events = [];
    if (messages.length === 0 && events.length === 0) return;

    let outcomes: InsertOutcome[];
    try {
      outcomes = this.write({ messages: messages.map((m) => m.row), events, trace: [] }).messages;
    } catch (thrown) {
      const error = storeErrorFrom(thrown, describe(messages.length));
      for (const message of messages) message.reject(error);
      this.options.onFailure?.({
        error,
        messages: messages.length,
        events: events.length,
        trace: 0,
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
