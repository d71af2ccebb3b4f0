/**
 * The gateway's one SQLite file. Everything else in the program goes through the Store interface;
 * no other module sees SQL.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { StoreError, storeErrorFrom } from './errors';
import { EventLog } from './events';
import { InstrumentTable } from './instruments';
import { MessageHistory } from './history';
import { BatchKeys, MessageTable } from './messages';
import {
  OrderTable,
  type OrderChange,
  type OrderChangeOutcome,
  type OrderFilter,
  type ResultForOrders,
  type TrackingOutcome,
} from './orders';
import type { Order, OrderHistoryEntry } from '../../src-shared/orders';
import type { OutboxEntry, OutboxState } from '../../src-shared/outbox';
import {
  name,
  prepareConfig,
  prepareEvent,
  prepareMessage,
  prepareTrace,
  time,
  type EventRow,
  type MessageRow,
  type TraceRow,
} from './prepare';
import { migrate, registerSchemaFunctions, requireCurrent, schemaVersion } from './schema';
import {
  OutboxTable,
  type AttemptRecord,
  type DeliveryItem,
  type DestinationRecord,
  type OutboxAttempt,
  type OutboxFilter,
  type OutboxSummary,
} from './outbox';
import { SearchIndexer } from './search-index';
import { FILED_THROUGH, LookupFiler } from './lookups';
import { MessageCompactor } from './compact';
import { TraceLog, TraceReferences } from './trace';
import { WalMeter } from './wal-meter';
import { CheckpointWorker, type CheckpointPass } from './checkpointer';
import type {
  CheckpointMode,
  CheckpointOutcome,
  CliMessage,
  CliMessageFilter,
  EventFilter,
  FaultInjector,
  InsertOutcome,
  InstrumentRecord,
  InstrumentSource,
  MessageDetail,
  MessageFilter,
  MessageOutcomeChange,
  MessageSummary,
  NewEvent,
  NewMessage,
  NewTraceEntry,
  Page,
  PurgeOutcome,
  PurgeRequest,
  RowCounts,
  StatsRequest,
  StoredEvent,
  StoreMetrics,
  TraceEntry,
  TraceFilter,
  TrafficStats,
  WriteFailure,
} from './types';
import {
  WriteQueue,
  type BatchOutcome,
  type WriteBatch,
  type WriteQueueOptions,
} from './write-queue';

export interface StoreOptions {
  file: string;
  /**
   * `full` (default): a committed message survives a power cut, so an ACK is a promise kept.
   * `normal`: survives a crash of the program, not of the machine; commits cost no fsync.
   */
  durability?: 'full' | 'normal';
  /** Path of better_sqlite3.node built for the running runtime (Electron ships its own). */
  nativeBinding?: string;
  /** For readers such as the `messages` command: no migration, no writes. */
  readonly?: boolean;
  /** How long a write waits for another program's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Memory for cached pages, default 32 MiB. */
  cacheMiB?: number;
  /** Clock for instrument timestamps and "today"; Date.now by default. */
  now?: () => number;
  queue?: Omit<WriteQueueOptions, 'onFailure'>;
  /**
   * SQLite's own checkpoints run inside whichever commit fills the log, delaying that
   * acknowledgement by their fsyncs; the store checkpoints from its side work instead, at most
   * this often while there are writes (default 1000 ms), which also bounds the log's size.
   */
  checkpointEveryMs?: number;
  /**
   * Copy the log into the database file on a worker thread with its own connection (default
   * true), so the event loop that acknowledges only copies the last pages of each round; false
   * checkpoints on the store's own connection, as does a store whose worker failed.
   */
  checkpointThread?: boolean;
  /** Monotonic clock in ms for checkpoint timing; performance.now by default. */
  monotonicNow?: () => number;
}

export interface StoreSettings {
  file: string;
  readonly: boolean;
  journalMode: string;
  /** 'full' or 'normal' (or SQLite's word for another level). */
  synchronous: string;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  schemaVersion: number;
}

/** What the gateway writes while instruments talk: messages by group commit, log, trace. */
export interface MessageSink {
  /**
   * Group commit: resolves once the message is committed together with whatever else was
   * enqueued in the same event-loop turn; rejects with a StoreError (nothing of that batch
   * stored) when the commit fails. A malformed message rejects with STORE_INVALID on its own.
   */
  enqueue(message: NewMessage): Promise<InsertOutcome>;
  /**
   * Written with the next group commit or within `sideFlushMs`. False (and nothing kept) once the
   * store is closed or when it is read-only, so late socket events during shutdown are harmless;
   * a malformed entry throws STORE_INVALID.
   */
  enqueueEvent(event: NewEvent): boolean;
  enqueueTrace(entry: NewTraceEntry): boolean;
  /** Told about every failed queued write; returns the unsubscribe function. */
  onWriteError(listener: (failure: WriteFailure) => void): () => void;
  /** Records what became of a message later, e.g. the answer to one we sent. */
  updateMessageOutcome(id: number, change: MessageOutcomeChange): boolean;
}

/** Instruments saved with their settings (those added or edited in the UI). */
export interface InstrumentRecords {
  upsertInstrument(id: string, config: unknown, source?: InstrumentSource): InstrumentRecord;
  getInstrument(id: string): InstrumentRecord | null;
  listInstruments(): InstrumentRecord[];
  deleteInstrument(id: string): boolean;
}

/** What the gateway runtime needs of the store: writing, its instruments, retention, closing. */
export interface GatewayStore extends MessageSink, InstrumentRecords {
  /** Deletes at most one batch per table, each in its own short transaction. */
  purge(request: PurgeRequest): PurgeOutcome;
  /** Writes what is queued, then closes. Idempotent. */
  close(): void;
}

/**
 * What the order side sees: order messages applied (committed before they are acknowledged),
 * worklists, tracking of results against orders, expiry. Each write is its own short transaction.
 */
export interface OrderStore {
  /** All the changes of one order message, in one transaction: all of them, or none. */
  applyOrders(changes: readonly OrderChange[]): OrderChangeOutcome[];
  /** Open orders for the sample meant for this instrument or any. */
  openOrdersFor(sampleId: string, instrumentId: string): Order[];
  /** Open orders for the samples from `from` to `to`, both included, this instrument's or any. */
  openOrdersBetween(from: string, to: string, instrumentId: string): Order[];
  /** Pending orders for this instrument or any, oldest first, at most `limit`. */
  pendingOrdersFor(instrumentId: string, limit: number): Order[];
  /** Orders meant for this instrument not sent yet, oldest first. */
  ordersToPush(instrumentId: string): Order[];
  /** The orders went out in message `messageId` (stored, direction out). */
  markOrdersSent(ids: readonly number[], instrumentId: string, messageId: number | null): void;
  /** Cancelled orders this instrument was sent and still has to be told about, oldest first. */
  cancelsToPush(instrumentId: string): Order[];
  /** The instrument was told, in message `messageId`, that these orders are cancelled. */
  markCancelsSent(ids: readonly number[], instrumentId: string, messageId: number | null): void;
  /** Results of a stored message moved these orders (or nobody ordered them). */
  trackResults(
    instrumentId: string,
    messageId: number,
    results: readonly ResultForOrders[],
  ): TrackingOutcome;
  cancelOrder(id: number, by: string): boolean;
  /** Cancels at most `limit` open orders received before `before`; returns how many. */
  expireOrders(before: number, limit: number): number;
  listOrders(filter?: OrderFilter): Order[];
  getOrder(id: number): Order | null;
  orderHistory(id: number): OrderHistoryEntry[];
  ordersResultedBy(messageId: number): Order[];
  /** Pending orders per target instrument ('' for orders meant for any). */
  pendingOrderCounts(): Record<string, number>;
  /** Orders received since `since` (ms), per source. */
  orderCountsBySource(since: number): Record<string, number>;
}

/**
 * The outbox and the destinations it delivers to. Entries are written with their messages
 * (`NewMessage.outbox`); these read them and keep the destinations' records.
 */
export interface OutboxStore {
  /** Oldest first. */
  listOutbox(filter?: OutboxFilter): OutboxEntry[];
  upsertDestination(id: string, config: unknown, source?: InstrumentSource): DestinationRecord;
  getDestination(id: string): DestinationRecord | null;
  listDestinations(): DestinationRecord[];
  /** Its entries stay, shown as held, until it is configured again. */
  deleteDestination(id: string): boolean;
  /** False when no destination has the id. */
  setDestinationHeld(id: string, held: boolean): boolean;
  /** Pending entries of a destination above `afterId`, oldest first, with their messages. */
  pendingDeliveries(destinationId: string, afterId: number, limit: number): DeliveryItem[];
  hasDueDeliveries(destinationId: string): boolean;
  /**
   * The outcomes of many attempts in one transaction. Nobody waits on it, so its commit does not
   * wait for the disk: a power cut may forget the last deliveries, and they are sent again.
   */
  recordAttempts(records: readonly AttemptRecord[]): void;
  /** Sends a message again (to one destination or all of its own); returns the entries reset. */
  resendMessage(messageId: number, destinationId?: string | null): number;
  /** Sends every failed entry (of one destination) again; returns how many. */
  resendFailed(destinationId?: string | null): number;
  outboxAttempts(messageId: number, destinationId: string): OutboxAttempt[];
  outboxSummaries(destinationIds: readonly string[], dayStart: number): OutboxSummary[];
  /** Per message, the worst state of its deliveries (messages not forwarded are absent). */
  forwardingStates(messageIds: readonly number[]): Map<number, OutboxState>;
  /** Told after every commit that wrote outbox entries, with their destinations. */
  onOutboxWritten(listener: (destinationIds: ReadonlySet<string>) => void): () => void;
}

/** What the history, event log and statistics screens read. */
export interface HistoryReader {
  readonly file: string;
  queryMessages(filter?: MessageFilter): Page<MessageSummary>;
  getMessage(id: number): MessageDetail | null;
  listEvents(filter?: EventFilter): Page<StoredEvent>;
  getTrace(filter: TraceFilter): Page<TraceEntry>;
  stats(request: StatsRequest): TrafficStats;
  /** Every instrument ID that has stored messages, also of instruments since removed. */
  messageInstrumentIds(): string[];
}

/** The whole store, for the composition root, the command line and benchmarks. */
export interface Store extends GatewayStore, HistoryReader, OrderStore, OutboxStore {
  readonly readonly: boolean;
  /** Stores the batch in one transaction: all of it, or nothing and a StoreError. */
  insertMessages(batch: readonly NewMessage[]): InsertOutcome[];
  /** Writes everything queued now. */
  flush(): void;
  /** Newest first, paged internally: iterate and print. */
  messagesForCli(filter?: CliMessageFilter): Generator<CliMessage>;
  insertEvents(batch: readonly NewEvent[]): number[];
  appendTrace(entries: readonly NewTraceEntry[]): number[];
  counts(): RowCounts;
  /** Bytes on disk, database and write-ahead log together. */
  fileSize(): number;
  checkpoint(mode?: CheckpointMode): CheckpointOutcome;
  metrics(): StoreMetrics;
  settings(): StoreSettings;
}

/** Hooks for tests and diagnosis; not part of what the running gateway sees. */
export interface StoreTestHooks {
  /** Runs before every commit; throwing aborts the transaction as a real failure would. */
  setFaultInjector(injector: FaultInjector | null): void;
  /** The plans of the statements `queryMessages(filter)` runs. */
  explainMessageQuery(filter?: MessageFilter): string[];
  /** Messages the search indexes list for `search` before each is checked. */
  searchIndexCandidates(search: string): number[];
  /** Whether checkpoints run on the thread now (once it opened; false after a failure, or off). */
  checkpointsOnThread(): boolean;
  /** Ends the checkpoint thread as a crash would; resolves once it is gone. */
  killCheckpointThread(): Promise<void>;
  /** Passes the thread made, and checkpoints the store's own connection ran, since open. */
  checkpointCounts(): { threadPasses: number; ownConnection: number };
  /** The side work now, as its timer runs it (trace rows may stay held for their message). */
  runSideWork(): void;
}

export function openStore(options: StoreOptions): Store {
  return new SqliteStore(options);
}

/** The test and diagnosis hooks of a store opened by `openStore`. */
export function storeTestHooks(store: Store): StoreTestHooks {
  if (!(store instanceof SqliteStore)) throw new Error('not a store opened by openStore');
  return store;
}

const DEFAULT_PURGE_BATCH = 100;
/**
 * Messages indexed per side transaction while instruments talk: each step holds the event loop,
 * and so every acknowledgement due meanwhile, for 60–120 µs per message (FTS5 writes and merges
 * its segments in that commit); a backlog is worked off in steps of this size, one per turn of
 * the loop. With 50 busy senders on a loaded machine, steps of 100 held the loop for 12–30 ms
 * each and steps of 25 for a few ms; but smaller steps write the index's pages more often: on a
 * quiet machine (gateway suite, FULL) 25 gave 12.9 KiB of log per 2.9 KB message with one sender
 * and 13.4 KiB with 50 (ACK p99 45 ms), 100 gave 10.9 and 7.0 KiB (ACK p99 53 ms).
 */
const INDEX_STEP = 100;
/**
 * Messages whose ID lookups and resend key are filed per side transaction (lookups.ts); filing
 * costs a few µs a message, all in SQL.
 */
const FILE_STEP = 1000;
/**
 * Unfiled messages after which the side work files them without waiting for its timer (a direct
 * insert: at once): every resend check reads the tail, so it stays short even when nothing
 * yields to the side work (a long run of synchronous inserts).
 */
const MAX_TAIL = 256;
/** Messages stored before the compact forms, converted per side transaction. */
const COMPACT_STEP = 200;
/** Per transaction when nothing waits: before a search, on open, on close. */
const INDEX_BATCH = 1000;
const MAX_PURGE_BATCH = 10_000;
/**
 * Log pages (4 KiB each) the store's own connection copies at most to finish a checkpoint round
 * after the worker's passes; more, and the worker goes again first.
 */
const FINISH_PAGES = 256;
/** Worker passes per round before the store's own connection finishes it whatever remains. */
const MAX_PASSES = 4;

class SqliteStore implements Store {
  readonly file: string;
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly messages: MessageTable;
  private readonly history: MessageHistory;
  private readonly events: EventLog;
  private readonly trace: TraceLog;
  /** Messages committed since the trace was last written, which its inbound rows may refer to. */
  private readonly references = new TraceReferences();
  private readonly instruments: InstrumentTable;
  private readonly orders: OrderTable;
  private readonly outbox: OutboxTable;
  private readonly queue: WriteQueue;
  private readonly writeListeners = new Set<(failure: WriteFailure) => void>();
  private readonly outboxListeners = new Set<(destinationIds: ReadonlySet<string>) => void>();
  private readonly writeBatchTx: (batch: WriteBatch) => BatchOutcome;
  private readonly shortTx: (work: () => unknown) => unknown;
  private readonly sideTx: (
    events: EventRow[],
    trace: TraceRow[],
    indexLimit: number,
  ) => { indexed: number; filed: number };
  private readonly indexer: SearchIndexer | null;
  private readonly filer: LookupFiler | null;
  /** Messages committed whose lookups are not filed yet (lookups.ts); 0 when caught up. */
  private unfiled = 0;
  private readonly compactor: MessageCompactor | null;
  /** Messages stored before the compact forms wait to be converted (compact.ts). */
  private compactBehind = false;
  private readonly fullSync: boolean;
  private readonly checkpointEveryMs: number;
  private readonly walMeter: WalMeter | null;
  /** Messages were committed that the search index does not hold yet. */
  private indexBehind = false;
  private writtenSinceCheckpoint = false;
  private readonly monotonicNow: () => number;
  private lastCheckpoint: number;
  private checkpointer: CheckpointWorker | null = null;
  /** How to start the checkpoint thread; null when there is to be none (off, or it failed). */
  private checkpointThreadOptions: { nativeBinding?: string; busyTimeoutMs: number } | null = null;
  /** Worker passes in the current round, before the store's own connection finishes it. */
  private checkpointPasses = 0;
  private readonly checkpointCounters = { threadPasses: 0, ownConnection: 0 };
  private faultInjector: FaultInjector | null = null;
  private closed = false;
  private readonly counters: StoreMetrics = {
    writeTransactions: 0,
    failedWrites: 0,
    messagesStored: 0,
    duplicates: 0,
    largestBatch: 0,
    droppedEntries: 0,
    walBytes: 0,
  };

  constructor(options: StoreOptions) {
    this.file = options.file;
    this.readonly = options.readonly ?? false;
    this.now = options.now ?? Date.now;
    this.db = openDatabase(options);
    this.fullSync = options.durability !== 'normal';
    this.checkpointEveryMs = Math.max(0, options.checkpointEveryMs ?? 1000);
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.lastCheckpoint = this.monotonicNow();
    this.walMeter = this.readonly ? null : new WalMeter(`${options.file}-shm`);
    this.walMeter?.read();
    try {
      this.indexer = this.readonly ? null : new SearchIndexer(this.db);
      this.filer = this.readonly ? null : new LookupFiler(this.db);
      this.compactor = this.readonly ? null : new MessageCompactor(this.db);
      this.compactBehind = this.compactor?.behind() ?? false;
      this.history = new MessageHistory(this.db);
      this.messages = new MessageTable(this.db, this.history);
      this.events = new EventLog(this.db);
      this.trace = new TraceLog(this.db, (id) => this.messages.rawOf(id));
      this.instruments = new InstrumentTable(this.db);
      this.orders = new OrderTable(this.db);
      this.outbox = new OutboxTable(this.db);
    } catch (error) {
      this.db.close();
      throw storeErrorFrom(error, `open the database ${options.file}`, 'STORE_OPEN_FAILED');
    }
    const transaction = this.db.transaction((batch: WriteBatch): BatchOutcome => {
      const keys = new BatchKeys();
      const outcome: BatchOutcome = {
        messages: batch.messages.map((row) => {
          const inserted = this.messages.insert(row, keys);
          // A message and its outbox entries commit together or not at all.
          if (!inserted.duplicate && row.outbox.length > 0) this.outbox.add(inserted.id, row);
          return inserted;
        }),
        events: batch.events.map((row) => this.events.insert(row)),
        trace: batch.trace.map((row) => this.trace.insert(row)),
      };
      this.faultInjector?.('write');
      return outcome;
    });
    // The meter reads the log before each write: a write may start the log over once the
    // checkpoint thread has copied all of it, and the meter must see the frames before that.
    this.writeBatchTx = (batch) => {
      this.walMeter?.read();
      return transaction.immediate(batch);
    };
    const side = this.db.transaction(
      (
        events: EventRow[],
        trace: TraceRow[],
        indexLimit: number,
      ): { indexed: number; filed: number } => {
        for (const row of events) this.events.insert(row);
        if (trace.length > 0) {
          const resolvedBefore = this.references.size > 0 ? this.trace.resolvedBefore() : 0;
          for (const row of trace) {
            this.trace.insert(row, this.references.encode(row, resolvedBefore));
          }
        }
        const filed = this.unfiled > 0 && this.filer ? this.filer.fileSome(FILE_STEP) : 0;
        const indexed =
          this.indexBehind && this.indexer && indexLimit > 0
            ? this.indexer.indexSome(indexLimit)
            : 0;
        if (this.compactBehind && this.compactor) {
          const converted = this.compactor.convertSome(COMPACT_STEP);
          if (converted < COMPACT_STEP) this.compactBehind = this.compactor.behind();
        }
        this.faultInjector?.('write');
        return { indexed, filed };
      },
    );
    this.sideTx = (events, trace, indexLimit) => {
      this.walMeter?.read();
      return side.immediate(events, trace, indexLimit);
    };
    const short = this.db.transaction((work: () => unknown) => {
      const result = work();
      this.faultInjector?.('write');
      return result;
    });
    this.shortTx = (work) => {
      this.walMeter?.read();
      return short.immediate(work);
    };
    this.queue = new WriteQueue(
      (batch) => this.writeBatch(batch, true),
      (events, trace) => this.sideWork(events, trace),
      { ...options.queue, onFailure: (failure) => this.reportFailure(failure) },
    );
    if (this.indexer) {
      // Messages acknowledged just before a crash or kill are filed and indexed now.
      try {
        this.unfiled = this.filer?.behind() ? MAX_TAIL : 0;
        this.catchUpLookups();
        this.indexBehind = this.indexer.behind();
        this.catchUpIndex();
      } catch (error) {
        this.db.close();
        throw storeErrorFrom(error, `open the database ${options.file}`, 'STORE_OPEN_FAILED');
      }
      // Messages of an older version are converted by the side work, a step at a time.
      if (this.compactBehind) this.queue.wake();
    }
    // Started with the first checkpoint due: a store opened for one command never starts it.
    this.checkpointThreadOptions =
      !this.readonly && options.checkpointThread !== false
        ? {
            ...(options.nativeBinding === undefined
              ? {}
              : { nativeBinding: options.nativeBinding }),
            busyTimeoutMs: options.busyTimeoutMs ?? 5000,
          }
        : null;
  }

  insertMessages(batch: readonly NewMessage[]): InsertOutcome[] {
    this.assertWritable();
    const rows = batch.map(prepareMessage);
    if (rows.length === 0) return [];
    return this.write(
      rows.length === 1 ? 'save the message' : `save ${rows.length} messages`,
      () => this.writeBatch({ messages: rows, events: [], trace: [] }).messages,
    );
  }

  enqueue(message: NewMessage): Promise<InsertOutcome> {
    let row: MessageRow;
    try {
      this.assertWritable();
      row = prepareMessage(message);
    } catch (error) {
      return Promise.reject(storeErrorFrom(error, 'save the message'));
    }
    return this.queue.enqueueMessage(row);
  }

  enqueueEvent(event: NewEvent): boolean {
    const row = prepareEvent(event);
    if (!this.acceptsSideEntries()) return false;
    this.queue.enqueueEvent(row);
    return true;
  }

  enqueueTrace(entry: NewTraceEntry): boolean {
    const row = prepareTrace(entry);
    if (!this.acceptsSideEntries()) return false;
    this.queue.enqueueTrace(row);
    return true;
  }

  flush(): void {
    if (this.closed) return;
    this.queue.flush();
    this.catchUpLookups();
    this.writeHeldTrace();
    this.catchUpIndex();
  }

  onWriteError(listener: (failure: WriteFailure) => void): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  setFaultInjector(injector: FaultInjector | null): void {
    this.faultInjector = injector;
  }

  updateMessageOutcome(id: number, change: MessageOutcomeChange): boolean {
    this.assertWritable();
    return this.write('update the message', () =>
      this.inTransaction(() => this.messages.changeOutcome(id, change)),
    );
  }

  queryMessages(filter: MessageFilter = {}): Page<MessageSummary> {
    if (filter.search !== undefined) this.indexBeforeSearch();
    if (filter.sampleId !== undefined || filter.patientId !== undefined) this.fileBeforeLookup();
    return this.read('read the message history', () => this.history.query(filter));
  }

  getMessage(id: number): MessageDetail | null {
    return this.read('read the message', () => this.messages.get(id));
  }

  *messagesForCli(filter: CliMessageFilter = {}): Generator<CliMessage> {
    this.assertOpen();
    if (filter.search !== undefined) this.indexBeforeSearch();
    yield* this.messages.forCli(filter);
  }

  explainMessageQuery(filter: MessageFilter = {}): string[] {
    return this.read('explain the query', () => this.history.explain(filter));
  }

  searchIndexCandidates(search: string): number[] {
    this.indexBeforeSearch();
    return this.read('read the search index', () => this.history.indexCandidates(search));
  }

  insertEvents(batch: readonly NewEvent[]): number[] {
    this.assertWritable();
    const rows = batch.map(prepareEvent);
    if (rows.length === 0) return [];
    return this.write(
      'save the event log',
      () => this.writeBatch({ messages: [], events: rows, trace: [] }).events,
    );
  }

  listEvents(filter: EventFilter = {}): Page<StoredEvent> {
    return this.read('read the event log', () => this.events.list(filter));
  }

  appendTrace(entries: readonly NewTraceEntry[]): number[] {
    this.assertWritable();
    const rows = entries.map(prepareTrace);
    if (rows.length === 0) return [];
    return this.write(
      'save the trace',
      () => this.writeBatch({ messages: [], events: [], trace: rows }).trace,
    );
  }

  getTrace(filter: TraceFilter): Page<TraceEntry> {
    // A reader sees every chunk that crossed the wire so far, also those still queued.
    if (!this.closed && !this.readonly) {
      this.queue.flushSide();
      this.writeHeldTrace();
    }
    return this.read('read the trace', () => this.trace.get(filter));
  }

  upsertInstrument(
    id: string,
    config: unknown,
    source: InstrumentSource = 'app',
  ): InstrumentRecord {
    this.assertWritable();
    const checkedId = name(id, 'the instrument ID');
    const json = prepareConfig(config);
    return this.write('save the instrument', () =>
      this.inTransaction(() => this.instruments.upsert(checkedId, json, source, this.now())),
    );
  }

  getInstrument(id: string): InstrumentRecord | null {
    return this.read('read the instrument', () => this.instruments.get(id));
  }

  listInstruments(): InstrumentRecord[] {
    return this.read('read the instruments', () => this.instruments.list());
  }

  deleteInstrument(id: string): boolean {
    this.assertWritable();
    return this.write('remove the instrument', () =>
      this.inTransaction(() => this.instruments.delete(id)),
    );
  }

  applyOrders(changes: readonly OrderChange[]): OrderChangeOutcome[] {
    this.assertWritable();
    return this.write('save the orders', () =>
      this.inTransaction(() => changes.map((change) => this.orders.apply(change, this.now()))),
    );
  }

  openOrdersFor(sampleId: string, instrumentId: string): Order[] {
    return this.read('read the orders', () => this.orders.openFor(sampleId, instrumentId));
  }

  openOrdersBetween(from: string, to: string, instrumentId: string): Order[] {
    return this.read('read the orders', () => this.orders.openBetween(from, to, instrumentId));
  }

  pendingOrdersFor(instrumentId: string, limit: number): Order[] {
    return this.read('read the orders', () => this.orders.pendingFor(instrumentId, limit));
  }

  ordersToPush(instrumentId: string): Order[] {
    return this.read('read the orders', () => this.orders.toPush(instrumentId));
  }

  markOrdersSent(ids: readonly number[], instrumentId: string, messageId: number | null): void {
    this.assertWritable();
    this.write('record the orders sent', () =>
      this.inTransaction(() => this.orders.markSent(ids, instrumentId, messageId, this.now())),
    );
  }

  trackResults(
    instrumentId: string,
    messageId: number,
    results: readonly ResultForOrders[],
  ): TrackingOutcome {
    this.assertWritable();
    return this.write('record results against orders', () =>
      this.inTransaction(() => this.orders.track(instrumentId, messageId, results, this.now())),
    );
  }

  cancelsToPush(instrumentId: string): Order[] {
    return this.read('read the orders', () => this.orders.cancelsToPush(instrumentId));
  }

  markCancelsSent(ids: readonly number[], instrumentId: string, messageId: number | null): void {
    this.assertWritable();
    if (ids.length === 0) return;
    this.write('record the cancellations sent', () =>
      this.inTransaction(() =>
        this.orders.markCancelsSent(ids, instrumentId, messageId, this.now()),
      ),
    );
  }

  cancelOrder(id: number, by: string): boolean {
    this.assertWritable();
    return this.write('cancel the order', () =>
      this.inTransaction(() => this.orders.cancel(id, this.now(), by)),
    );
  }

  expireOrders(before: number, limit: number): number {
    this.assertWritable();
    return this.write('expire old orders', () =>
      this.inTransaction(() => this.orders.expire(before, this.now(), limit)),
    );
  }

  listOrders(filter: OrderFilter = {}): Order[] {
    return this.read('read the orders', () => this.orders.list(filter));
  }

  getOrder(id: number): Order | null {
    return this.read('read the order', () => this.orders.get(id));
  }

  orderHistory(id: number): OrderHistoryEntry[] {
    return this.read('read the order history', () => this.orders.historyFor(id));
  }

  ordersResultedBy(messageId: number): Order[] {
    return this.read('read the orders', () => this.orders.resultedByMessage(messageId));
  }

  orderCountsBySource(since: number): Record<string, number> {
    return this.read('count the orders', () => this.orders.countsBySource(since));
  }

  pendingOrderCounts(): Record<string, number> {
    return this.read('count the orders', () => this.orders.pending());
  }

  listOutbox(filter: OutboxFilter = {}): OutboxEntry[] {
    return this.read('read the outbox', () => this.outbox.list(filter));
  }

  upsertDestination(
    id: string,
    config: unknown,
    source: InstrumentSource = 'app',
  ): DestinationRecord {
    this.assertWritable();
    const checkedId = name(id, 'the destination ID');
    const json = prepareConfig(config);
    return this.write('save the destination', () =>
      this.inTransaction(() => this.outbox.upsertDestination(checkedId, json, source, this.now())),
    );
  }

  getDestination(id: string): DestinationRecord | null {
    return this.read('read the destination', () => this.outbox.getDestination(id));
  }

  listDestinations(): DestinationRecord[] {
    return this.read('read the destinations', () => this.outbox.listDestinations());
  }

  deleteDestination(id: string): boolean {
    this.assertWritable();
    return this.write('remove the destination', () =>
      this.inTransaction(() => this.outbox.deleteDestination(id)),
    );
  }

  setDestinationHeld(id: string, held: boolean): boolean {
    this.assertWritable();
    return this.write(held ? 'hold the destination' : 'release the destination', () =>
      this.inTransaction(() => this.outbox.setHeld(id, held, this.now())),
    );
  }

  pendingDeliveries(destinationId: string, afterId: number, limit: number): DeliveryItem[] {
    return this.read('read the outbox', () =>
      this.outbox.pendingItems(destinationId, afterId, limit),
    );
  }

  hasDueDeliveries(destinationId: string): boolean {
    return this.read('read the outbox', () => this.outbox.hasPending(destinationId));
  }

  recordAttempts(records: readonly AttemptRecord[]): void {
    this.assertWritable();
    if (records.length === 0) return;
    this.write('record deliveries', () =>
      this.relaxed(() => this.inTransaction(() => this.outbox.recordAttempts(records))),
    );
  }

  resendMessage(messageId: number, destinationId: string | null = null): number {
    this.assertWritable();
    return this.write('resend the message', () =>
      this.inTransaction(() => this.outbox.resend(messageId, destinationId)),
    );
  }

  resendFailed(destinationId: string | null = null): number {
    this.assertWritable();
    return this.write('resend the failed messages', () =>
      this.inTransaction(() => this.outbox.resendFailed(destinationId)),
    );
  }

  outboxAttempts(messageId: number, destinationId: string): OutboxAttempt[] {
    return this.read('read the delivery attempts', () =>
      this.outbox.attempts(messageId, destinationId),
    );
  }

  outboxSummaries(destinationIds: readonly string[], dayStart: number): OutboxSummary[] {
    return this.read('count the outbox', () => this.outbox.summaries(destinationIds, dayStart));
  }

  forwardingStates(messageIds: readonly number[]): Map<number, OutboxState> {
    return this.read('read the outbox', () => this.outbox.statesOf(messageIds));
  }

  onOutboxWritten(listener: (destinationIds: ReadonlySet<string>) => void): () => void {
    this.outboxListeners.add(listener);
    return () => this.outboxListeners.delete(listener);
  }

  messageInstrumentIds(): string[] {
    // One seek per instrument in their lookup (message_instruments), and the unfiled tail.
    return this.read('list the instruments of the history', () =>
      this.db
        .prepare<[], string>(
          `WITH RECURSIVE ids(id) AS (
             SELECT min(instrument_id) FROM message_instruments
             UNION ALL
             SELECT (SELECT min(instrument_id) FROM message_instruments WHERE instrument_id > ids.id)
             FROM ids WHERE ids.id IS NOT NULL)
           SELECT id FROM ids WHERE id IS NOT NULL
           UNION
           SELECT instrument_id FROM messages NOT INDEXED WHERE id > ${FILED_THROUGH}
           ORDER BY 1`,
        )
        .pluck()
        .all(),
    );
  }

  stats(request: StatsRequest): TrafficStats {
    return this.read('count the traffic', () => this.messages.stats(request, this.now()));
  }

  purge(request: PurgeRequest): PurgeOutcome {
    this.assertWritable();
    const batchSize = Math.min(MAX_PURGE_BATCH, request.batchSize ?? DEFAULT_PURGE_BATCH);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new StoreError('STORE_INVALID', 'the purge batch size must be a positive whole number');
    }
    const messagesBefore = time(request.messagesBefore, 'messagesBefore');
    const traceBefore = time(request.traceBefore, 'traceBefore');
    const eventsBefore =
      request.eventsBefore === undefined ? null : time(request.eventsBefore, 'eventsBefore');
    // Trace rows still waiting may refer to messages about to go: they are written first.
    if (!this.closed) {
      this.queue.flushSide();
      this.writeHeldTrace();
    }
    return this.write('purge old data', () => {
      const trace = this.inTransaction(() => this.trace.deleteBefore(traceBefore, batchSize));
      // A message goes only once no trace row refers to it. Rows refer only to messages stored
      // after them, so messages older than the oldest row that may refer to one are free. When
      // the trace is kept longer than the messages, its old rows take their bytes back first.
      const resolved =
        traceBefore < messagesBefore
          ? this.inTransaction(() => this.trace.resolveBefore(messagesBefore, batchSize))
          : 0;
      const before = Math.min(messagesBefore, this.trace.referenceFreeBefore());
      const messages = this.inTransaction(() => this.messages.deleteBefore(before, batchSize));
      const events =
        eventsBefore === null
          ? 0
          : this.inTransaction(() => this.events.deleteBefore(eventsBefore, batchSize));
      const more =
        messages === batchSize ||
        trace === batchSize ||
        events === batchSize ||
        resolved === batchSize;
      return { messages, trace, events, more };
    });
  }

  counts(): RowCounts {
    this.fileBeforeLookup();
    return this.read('count the rows', () => {
      const lookups = this.messages.countLookups();
      return {
        ...this.messages.count(),
        events: this.events.count(),
        trace: this.trace.count(),
        sampleKeys: lookups.samples,
        patientKeys: lookups.patients,
      };
    });
  }

  fileSize(): number {
    this.assertOpen();
    return sizeOf(this.file) + sizeOf(`${this.file}-wal`);
  }

  checkpoint(mode: CheckpointMode = 'passive'): CheckpointOutcome {
    this.assertOpen();
    // A pass of the checkpoint thread would make this one find the log busy.
    this.checkpointer?.waitForPass();
    // The log may start over after this checkpoint: count what it holds first.
    this.walMeter?.read();
    const row = this.db.pragma(`wal_checkpoint(${mode.toUpperCase()})`) as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    const result = row[0] ?? { busy: 0, log: 0, checkpointed: 0 };
    return {
      busy: result.busy !== 0,
      walPages: result.log,
      checkpointedPages: result.checkpointed,
    };
  }

  metrics(): StoreMetrics {
    return { ...this.counters, walBytes: this.walMeter?.walBytes ?? 0 };
  }

  settings(): StoreSettings {
    this.assertOpen();
    const synchronous = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      file: this.file,
      readonly: this.readonly,
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: ['off', 'normal', 'full', 'extra'][synchronous] ?? String(synchronous),
      foreignKeys: this.db.pragma('foreign_keys', { simple: true }) === 1,
      busyTimeoutMs: this.db.pragma('busy_timeout', { simple: true }) as number,
      schemaVersion: schemaVersion(this.db),
    };
  }

  close(): void {
    if (this.closed) return;
    try {
      this.queue.close();
      this.catchUpLookups();
      this.writeHeldTrace();
      this.catchUpIndex();
      this.walMeter?.read();
    } finally {
      this.closed = true;
      // Joined before the store's connection closes, which then, being the last, checkpoints
      // the whole log and removes it.
      this.checkpointer?.close();
      this.checkpointer = null;
      this.walMeter?.close();
      if (!this.readonly) {
        try {
          this.db.pragma('optimize');
        } catch {
          // Statistics are a nicety; a failure here must not keep the file open.
        }
      }
      this.db.close();
    }
  }

  /** `queued`: a group commit, whose callers acknowledge once this returns. */
  private writeBatch(batch: WriteBatch, queued = false): BatchOutcome {
    this.assertOpen();
    let outcome: BatchOutcome;
    try {
      outcome = this.writeBatchTx(batch);
    } catch (error) {
      this.counters.failedWrites++;
      this.counters.droppedEntries += batch.events.length + batch.trace.length;
      throw error;
    }
    this.counters.writeTransactions++;
    this.writtenSinceCheckpoint = true;
    batch.messages.forEach((row, index) => {
      const inserted = outcome.messages[index];
      if (row.exchange === null || !inserted || inserted.duplicate) return;
      if (row.wire !== null) {
        this.references.add(row.instrumentId, inserted.id, row.receivedAt, row.wire, row.exchange);
      }
    });
    const stored = outcome.messages.filter((o) => !o.duplicate).length;
    if (stored > 0) this.indexBehind = true;
    this.unfiled += stored;
    // After the acknowledgements of a group commit (the next turn), unless the loop never yields.
    if (this.unfiled >= (queued ? 4 * MAX_TAIL : MAX_TAIL)) this.fileBeforeLookup();
    if (this.unfiled >= MAX_TAIL) this.queue.wakeSoon();
    else this.queue.wake();
    this.counters.messagesStored += stored;
    this.counters.duplicates += outcome.messages.length - stored;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, outcome.messages.length);
    if (this.outboxListeners.size > 0) this.tellOutboxWritten(batch, outcome);
    return outcome;
  }

  private tellOutboxWritten(batch: WriteBatch, outcome: BatchOutcome): void {
    const destinations = new Set<string>();
    batch.messages.forEach((row, index) => {
      if (outcome.messages[index]?.duplicate !== false) return;
      for (const target of row.outbox) destinations.add(target.destinationId);
    });
    if (destinations.size === 0) return;
    for (const listener of this.outboxListeners) {
      try {
        listener(destinations);
      } catch {
        // The forwarder also polls; a listener's bug must not fail a commit that succeeded.
      }
    }
  }

  /** A short write of its own, with the fault injector before its commit like any other. */
  private inTransaction<T>(work: () => T): T {
    const result = this.shortTx(work) as T;
    this.afterWrite();
    return result;
  }

  /** Writes outside the message queue still want their side work (indexing, checkpoints). */
  private afterWrite(): void {
    this.writtenSinceCheckpoint = true;
    this.queue.wake();
  }

  /**
   * The queue's side work: events and trace entries, a batch of the search index, and a passive
   * checkpoint when one is due, none of it in a commit that an acknowledgement waits for.
   */
  private sideWork(events: EventRow[], queued: TraceRow[], all = false): void {
    if (this.closed) return;
    // Trace rows whose bytes may yet be a message's wait for its commit (trace.ts).
    const trace = this.references.take(queued, all);
    if (
      events.length > 0 ||
      trace.length > 0 ||
      this.unfiled > 0 ||
      this.indexBehind ||
      this.compactBehind
    ) {
      try {
        this.sideWrite(events, trace);
      } catch (error) {
        this.counters.droppedEntries += events.length + trace.length;
        throw error;
      } finally {
        this.references.prune();
      }
      // The rest of a backlog follows in the next turn of the loop, after what waits there.
      if (this.unfiled > 0 || this.indexBehind || this.compactBehind) this.queue.wakeSoon();
    } else {
      this.references.prune();
    }
    if (this.references.holding > 0) this.queue.wake();
    this.checkpointIfDue();
  }

  runSideWork(): void {
    const pending = this.queue.pending;
    if (pending.events + pending.trace > 0) this.queue.flushSide();
    else this.sideWork([], []);
  }

  /** Writes the trace rows held back for messages, all of them, now. */
  private writeHeldTrace(): void {
    if (this.references.holding === 0 || this.closed || this.readonly) return;
    try {
      this.sideWork([], [], true);
    } catch (error) {
      this.reportFailure({
        error: storeErrorFrom(error, 'save the trace'),
        messages: 0,
        events: 0,
        trace: 0,
      });
    }
  }

  /**
   * One side transaction; clears indexBehind once the index has caught up, and unfiled once the
   * lookups have.
   */
  private sideWrite(events: EventRow[], trace: TraceRow[], indexLimit = INDEX_STEP): void {
    const indexing = this.indexBehind;
    let indexed: number;
    let filed: number;
    try {
      ({ indexed, filed } = this.relaxed(() => this.sideTx(events, trace, indexLimit)));
    } catch (error) {
      this.counters.failedWrites++;
      throw error;
    }
    this.counters.writeTransactions++;
    this.writtenSinceCheckpoint = true;
    if (indexing && indexed < indexLimit) this.indexBehind = false;
    // A full step may leave more behind than counted (after a crash, say): another step finds out.
    this.unfiled = filed < FILE_STEP ? 0 : Math.max(1, this.unfiled - filed);
  }

  /**
   * Nothing waits on what side work writes, so its commit need not wait for the disk: the next
   * message commit's fsync of the log, or the next checkpoint, covers it, and the log keeps
   * transactions in order, so a power cut loses a tail of them, never a gap.
   */
  private relaxed<T>(work: () => T): T {
    if (!this.fullSync) return work();
    this.db.pragma('synchronous = NORMAL');
    try {
      return work();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  private catchUpLookups(): void {
    // Lookups only: the search index has its own catch-up, where one is due.
    while (this.unfiled > 0 && !this.closed) this.sideWrite([], [], 0);
  }

  /**
   * A query by sample or patient ID reads the unfiled tail too (history.ts); filing it first
   * keeps that tail short. Also after a commit that left it long.
   */
  private fileBeforeLookup(): void {
    if (this.unfiled === 0 || this.closed || this.readonly) return;
    try {
      this.catchUpLookups();
    } catch (error) {
      // Nothing is missed meanwhile: readers and the resend check read the tail as well.
      this.reportFailure({
        error: storeErrorFrom(error, 'file the ID lookups of new messages'),
        messages: 0,
        events: 0,
        trace: 0,
      });
    }
  }

  private catchUpIndex(): void {
    while (this.indexBehind && !this.closed) this.sideWrite([], [], INDEX_BATCH);
  }

  /** A search finds every stored message, also one committed a moment ago. */
  private indexBeforeSearch(): void {
    if (!this.indexBehind || this.closed || this.readonly) return;
    try {
      this.catchUpIndex();
    } catch (error) {
      // The search still runs; it lacks the newest messages until the side work indexes them.
      this.reportFailure({
        error: storeErrorFrom(error, 'index new messages for search'),
        messages: 0,
        events: 0,
        trace: 0,
      });
    }
  }

  private checkpointIfDue(): void {
    if (!this.writtenSinceCheckpoint || this.readonly) return;
    const now = this.monotonicNow();
    if (now - this.lastCheckpoint < this.checkpointEveryMs) {
      this.queue.wake();
      return;
    }
    // Until the thread has opened its connection, the store checkpoints on its own.
    if (this.checkpointer?.ready) {
      // A round already under way reports through checkpointPassed.
      if (this.checkpointer.idle) {
        this.lastCheckpoint = now;
        this.checkpointPasses = 0;
        this.requestPass();
      }
      return;
    }
    this.lastCheckpoint = now;
    if (this.checkpointer === null && this.checkpointThreadOptions !== null) {
      this.startCheckpointer(this.checkpointThreadOptions);
    }
    this.checkpointHere();
  }

  private requestPass(): void {
    if (!this.checkpointer?.request()) {
      this.queue.wake();
      return;
    }
    this.checkpointPasses++;
  }

  /**
   * The worker copied what the log held when it began; the commits made meanwhile remain. While
   * they are many, it goes again; once few remain (or after a few passes, so that a flood cannot
   * keep the log from starting over), the store's own connection copies them between two
   * commits, which lets the next commit start the log over.
   */
  private checkpointPassed(pass: CheckpointPass): void {
    if (this.closed) return;
    this.checkpointCounters.threadPasses++;
    const remaining = this.walMeter ? this.walMeter.pagesNow() - pass.checkpointedPages : 0;
    if (!pass.busy && remaining > FINISH_PAGES && this.checkpointPasses < MAX_PASSES) {
      this.requestPass();
      return;
    }
    this.checkpointHere();
  }

  /** A passive checkpoint on the store's own connection, on the event loop. */
  private checkpointHere(): void {
    this.checkpointCounters.ownConnection++;
    try {
      const outcome = this.checkpoint('passive');
      // A reader still on old pages keeps them in the log; the next round copies them.
      if (!outcome.busy && outcome.checkpointedPages >= outcome.walPages) {
        this.writtenSinceCheckpoint = false;
      } else {
        this.queue.wake();
      }
    } catch {
      // Another connection's checkpoint or lock; the next round tries again.
      this.queue.wake();
    }
  }

  private startCheckpointer(options: { nativeBinding?: string; busyTimeoutMs: number }): void {
    try {
      this.checkpointer = CheckpointWorker.start(this.file, options, {
        onPass: (pass) => this.checkpointPassed(pass),
        onFailure: (error) => this.checkpointerFailed(error),
      });
    } catch (error) {
      // No thread could be started here: said once, then checkpoints stay on this connection.
      this.checkpointerFailed(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // None can be started here (the module was not found): checkpoint inline, as when off.
    if (this.checkpointer === null) this.checkpointThreadOptions = null;
  }

  /** Reported once; from then on the store checkpoints on its own connection, as before. */
  private checkpointerFailed(error: Error): void {
    this.checkpointer = null;
    this.checkpointThreadOptions = null;
    if (this.closed) return;
    this.reportFailure({
      error: storeErrorFrom(
        error,
        'checkpoint the database on its own thread (checkpoints now run on the main thread)',
      ),
      messages: 0,
      events: 0,
      trace: 0,
    });
    this.queue.wake();
  }

  checkpointCounts(): { threadPasses: number; ownConnection: number } {
    return { ...this.checkpointCounters };
  }

  checkpointsOnThread(): boolean {
    return this.checkpointer?.ready ?? false;
  }

  async killCheckpointThread(): Promise<void> {
    const worker = this.checkpointer;
    if (!worker) return;
    await worker.kill();
    // The exit event, which reports the failure, follows the termination.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private write<T>(action: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw storeErrorFrom(error, action);
    }
  }

  private read<T>(action: string, work: () => T): T {
    this.assertOpen();
    try {
      return work();
    } catch (error) {
      throw storeErrorFrom(error, action, 'STORE_READ_FAILED');
    }
  }

  private reportFailure(failure: WriteFailure): void {
    for (const listener of this.writeListeners) {
      try {
        listener(failure);
      } catch {
        // A listener's bug must not stop the others from hearing about a failed write.
      }
    }
  }

  private acceptsSideEntries(): boolean {
    if (!this.closed && !this.readonly) return true;
    this.counters.droppedEntries++;
    return false;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'the database is closed');
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readonly) {
      throw new StoreError('STORE_READONLY', 'could not write: the database was opened read-only');
    }
  }
}

function openDatabase(options: StoreOptions): Database.Database {
  const readonly = options.readonly ?? false;
  let db: Database.Database;
  try {
    db = new Database(options.file, {
      readonly,
      fileMustExist: readonly,
      timeout: options.busyTimeoutMs ?? 5000,
      ...(options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding }),
    });
  } catch (error) {
    throw storeErrorFrom(error, `open the database ${options.file}`, 'STORE_OPEN_FAILED');
  }
  try {
    registerSchemaFunctions(db);
    db.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? 32)}`);
    db.pragma('temp_store = MEMORY');
    if (readonly) {
      requireCurrent(db);
    } else {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      // The store checkpoints from its side work (checkpointIfDue), never inside a commit.
      db.pragma('wal_autocheckpoint = 0');
      db.pragma('foreign_keys = ON');
      // Keeps the log from staying at its peak size after a burst.
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      migrate(db);
    }
    return db;
  } catch (error) {
    db.close();
    throw storeErrorFrom(error, `open the database ${options.file}`, 'STORE_OPEN_FAILED');
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
