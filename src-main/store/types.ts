/**
 * What the store takes and gives back. Plain data only: the rest of the main process and, through
 * the contract, the UI see these shapes and never a row or a statement.
 */
import type { Protocol, Result, StoredResult } from '../../src-shared/results';
import type { Direction, EventLevel, MessageStatus, MessageSummary } from '../../src-shared/status';
import type { InstrumentSource } from '../../src-shared/config';
import type { StoreError } from './errors';
import type { OutboxScope } from '../../src-shared/outbox';

export type { Direction, EventLevel, MessageStatus, MessageSummary };

/** A problem found in a message, e.g. `{ code: 'ASTM_BAD_CHECKSUM', message: 'frame 3: ...' }`. */
export interface MessageError {
  code: string;
  message: string;
}

export interface NewMessage {
  instrumentId: string;
  protocol: Protocol;
  direction: Direction;
  /** Milliseconds since the epoch. */
  receivedAt: number;
  /** HL7 MSH-10, or whatever identifies the message on the wire. */
  controlId?: string | null;
  /** Records or segments joined by CR. */
  text: string;
  /** The bytes as they crossed the wire; stored exactly. */
  raw: Uint8Array;
  /** What was sent or received in answer: ACK, NAK, AA, AE, AR, CA, ... */
  ack?: string | null;
  status: MessageStatus;
  errors: readonly MessageError[];
  /** `qc` true for quality-control and calibration results; false when absent. */
  results: readonly (Result & { qc?: boolean })[];
  /** The instrument profile the results were read with; null or absent: the generic reading. */
  profile?: string | null;
  /** IDs the message carries besides those of its results (queries, orders). */
  sampleIds?: readonly string[];
  patientIds?: readonly string[];
  /**
   * Identifies a resend of the same message from the same instrument (e.g. its control ID and a
   * hash of its text): a second message with the key is not stored again.
   */
  dedupeKey?: string | null;
  /**
   * Destinations that receive this message: an outbox entry each, written in the same
   * transaction as the message (none for a duplicate, whose entries already exist).
   */
  outbox?: readonly OutboxTarget[];
  /** Where the message's bytes lie in the stream of the connection it arrived on. */
  exchange?: MessageExchange | null;
}

/**
 * The stream ranges of one connection that make up a message's raw bytes, in order: `raw` is
 * the bytes of the ranges concatenated (HL7: the MLLP payload, one range; ASTM: each accepted
 * frame, STX to checksum). Offsets count the bytes received on the connection before.
 */
export interface MessageExchange {
  connectionId: string;
  /** [stream offset, length] per range. */
  ranges: readonly (readonly [number, number])[];
}

/** One destination of a stored message, and which of its results it receives. */
export interface OutboxTarget {
  destinationId: string;
  scope: OutboxScope;
}

export interface InsertOutcome {
  id: number;
  /** True when a message with the same instrument and dedupe key was already stored. */
  duplicate: boolean;
}

/** What became of a message later, e.g. the peer's answer to one we sent. */
export interface MessageOutcomeChange {
  status?: MessageStatus;
  /** Null clears it; absent leaves it. */
  ack?: string | null;
  errors?: readonly MessageError[];
}

export interface MessageDetail extends MessageSummary {
  text: string;
  raw: Buffer;
  results: StoredResult[];
  errors: MessageError[];
  dedupeKey: string | null;
  profile: string | null;
  /** Where its bytes lie in its connection's stream; absent or null when not recorded. */
  exchange?: MessageExchange | null;
}

export type SortOrder = 'desc' | 'asc';

export interface MessageFilter {
  instrumentId?: string;
  protocol?: Protocol;
  direction?: Direction;
  status?: MessageStatus;
  /** Inclusive, milliseconds. */
  from?: number;
  /** Exclusive, milliseconds. */
  to?: number;
  /**
   * Words separated by spaces ("a quoted phrase" is one word). A message matches when each word,
   * ignoring case, is a whole word (or several, like `mmol/L`) of its text, of an ID or of a test
   * code, or, from three characters on, part of a sample or patient ID (`0123` finds S26000123).
   */
  search?: string;
  /** Exact sample ID; case of ASCII letters ignored. */
  sampleId?: string;
  /** Exact patient ID; case of ASCII letters ignored. */
  patientId?: string;
  /** true: messages with QC or calibration results; false: messages without. */
  qc?: boolean;
  /** Only messages with an outbox entry in this state. */
  forwarding?: 'pending' | 'delivered' | 'failed' | 'held';
  /** `nextCursor` of the previous page, for the same filter and order. */
  cursor?: string | null;
  /** Default 50, at most 1000. */
  limit?: number;
  /** Newest first by default. */
  order?: SortOrder;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

/** One message as the `messages` command prints it (see CONTRACT.md), plus a few useful fields. */
export interface CliMessage {
  id: number;
  instrumentId: string;
  protocol: Protocol;
  direction: Direction;
  /** ISO-8601, UTC. */
  receivedAt: string;
  text: string;
  results: StoredResult[];
  controlId: string | null;
  sampleIds: string[];
  patientIds: string[];
  status: MessageStatus;
  ack: string | null;
  errors: MessageError[];
  /** The instrument profile the results were read with; null for the generic reading. */
  profile: string | null;
}

export interface CliMessageFilter {
  instrumentId?: string;
  search?: string;
  /** All matching messages when absent. */
  limit?: number;
}

export type EventKind =
  | 'status'
  | 'connection'
  | 'protocol-error'
  | 'user-action'
  | 'storage'
  | 'alarm'
  | 'config'
  | (string & {});

export interface NewEvent {
  at: number;
  /** Null for events of the gateway as a whole. */
  instrumentId?: string | null;
  kind: EventKind;
  level: EventLevel;
  code?: string | null;
  /** Plain words, e.g. "connection refused by 10.0.0.5: not in the allowed peers". */
  message: string;
  /** Anything JSON can hold. */
  data?: unknown;
}

export interface StoredEvent {
  id: number;
  at: number;
  instrumentId: string | null;
  kind: EventKind;
  level: EventLevel;
  code: string | null;
  message: string;
  data: unknown;
}

export interface EventFilter {
  instrumentId?: string;
  kind?: EventKind;
  level?: EventLevel;
  from?: number;
  to?: number;
  /** Text in the message, code, kind or instrument ID (src-shared/event-search.ts). */
  search?: string;
  cursor?: string | null;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Newest first by default. */
  order?: SortOrder;
}

export interface NewTraceEntry {
  instrumentId: string;
  /** Tells apart the connections of one instrument (one per accepted socket or connect attempt). */
  connectionId: string;
  at: number;
  direction: Direction;
  bytes: Uint8Array;
  /**
   * Where the first byte lies in the connection's stream of this direction (bytes before it on
   * the same connection and direction). Inbound chunks with an offset may be stored as references
   * to the messages made of their bytes (see `MessageExchange`).
   */
  offset?: number;
}

export interface TraceEntry {
  id: number;
  instrumentId: string;
  connectionId: string;
  at: number;
  direction: Direction;
  bytes: Buffer;
  /** The first byte's offset in its connection's stream of this direction, when known. */
  offset?: number;
}

export interface TraceFilter {
  instrumentId: string;
  connectionId?: string;
  /** Inclusive, milliseconds. */
  from: number;
  /** Exclusive, milliseconds. */
  to: number;
  cursor?: string | null;
  /** Default 1000, at most 10,000. */
  limit?: number;
}

export type { InstrumentSource };

export interface InstrumentRecord {
  id: string;
  config: unknown;
  source: InstrumentSource;
  createdAt: number;
  updatedAt: number;
}

export interface StatsRequest {
  /** Start of the first bucket, milliseconds. */
  since: number;
  bucketMs: number;
  /** End of the last bucket (exclusive); now by default. */
  until?: number;
  /** Start of "today" for the totals; local midnight by default. */
  dayStart?: number;
}

export interface InstrumentTraffic {
  instrumentId: string;
  /** Messages per bucket, oldest bucket first. */
  in: number[];
  out: number[];
  today: {
    in: number;
    out: number;
    /** Messages of today by status, both directions. */
    byStatus: Record<string, number>;
  };
}

export interface TrafficStats {
  since: number;
  bucketMs: number;
  bucketCount: number;
  dayStart: number;
  /** Instruments with traffic since `since` or since `dayStart`, by ID. */
  instruments: InstrumentTraffic[];
}

export interface PurgeRequest {
  /** Messages received before this time go, with their results. */
  messagesBefore: number;
  traceBefore: number;
  /** Events are kept when absent. */
  eventsBefore?: number;
  /** Rows per table per call; default 100 (some 10-20 ms of work at a million messages). */
  batchSize?: number;
}

export interface PurgeOutcome {
  messages: number;
  trace: number;
  events: number;
  /** True when a table had a full batch to delete: call again. */
  more: boolean;
}

export interface RowCounts {
  messages: number;
  results: number;
  events: number;
  trace: number;
  /** Rows of the sample and patient ID lookups. */
  sampleKeys: number;
  patientKeys: number;
}

export type CheckpointMode = 'passive' | 'full' | 'restart' | 'truncate';

export interface CheckpointOutcome {
  /** True when another connection kept the checkpoint from finishing. */
  busy: boolean;
  walPages: number;
  checkpointedPages: number;
}

/** Counters of the write path, for tests, benchmarks and the status view. */
export interface StoreMetrics {
  /** Write transactions committed (each insert call, each group commit, each purge step). */
  writeTransactions: number;
  /** Write transactions rolled back because the write failed. */
  failedWrites: number;
  messagesStored: number;
  duplicates: number;
  /** Most messages committed by one group commit. */
  largestBatch: number;
  /** Events and trace entries lost: the write carrying them failed, or the store was closed. */
  droppedEntries: number;
  /**
   * Bytes this store appended to the write-ahead log since it was opened (frames of a page and
   * its 24-byte header): what the disk is asked to write before anything is checkpointed.
   */
  walBytes: number;
}

/** Reported when a queued write fails; the messages of the batch were rejected, nothing stored. */
export interface WriteFailure {
  error: StoreError;
  messages: number;
  events: number;
  trace: number;
}

export type FaultInjector = (op: 'write') => void;
