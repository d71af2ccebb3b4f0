/**
 * The outbox: one entry per stored message and destination, written in the message's own
 * transaction (`add`), then delivered, retried, failed, resent. Destinations are kept here too,
 * so that any reader can tell an entry on hold from one in delivery.
 */
import type Database from 'better-sqlite3';
import {
  outboxControlId,
  type OutboxEntry,
  type OutboxScope,
  type OutboxState,
} from '../../src-shared/outbox';
import type { StoredResult } from '../../src-shared/results';
import {
  RESULT_ROW_COLUMNS,
  RESULTS_COLUMN,
  resultFromRow,
  resultsFromJson,
  storedText,
  unpackRaw,
  type ResultRow,
} from './compact';
import type { MessageRow } from './prepare';
import type { InstrumentSource } from './types';

export interface OutboxFilter {
  destinationId?: string;
  state?: OutboxState;
  messageId?: number;
  /** Default 1000. */
  limit?: number;
}

export interface DestinationRecord {
  id: string;
  config: unknown;
  source: InstrumentSource;
  held: boolean;
  createdAt: number;
  updatedAt: number;
}

/** An entry to deliver, with what the forwarder needs of its message. */
export interface DeliveryItem {
  /** The outbox entry's own ID (its control ID is outboxControlId(id)). */
  id: number;
  messageId: number;
  instrumentId: string;
  scope: OutboxScope;
  attempts: number;
  createdAt: number;
  protocol: 'astm' | 'hl7';
  receivedAt: number;
  /** The message's own control ID (MSH-10 of an HL7 message). */
  messageControlId: string | null;
  text: string;
  raw: Buffer;
  profile: string | null;
  results: StoredResult[];
}

/** What one attempt came to; written in batches by `recordAttempts`. */
export interface AttemptRecord {
  entryId: number;
  at: number;
  outcome: 'delivered' | 'failed' | 'retry';
  /** What was sent (text), for the detail pane. */
  sent: string;
  /** The destination's answer, or why there was none. */
  answer: string | null;
  /** For failed and retry: plain words kept on the entry. */
  error: string | null;
  /** For retry: when the entry may be tried again. */
  nextAttemptAt?: number;
}

export interface OutboxAttempt {
  at: number;
  outcome: 'delivered' | 'failed' | 'retry';
  sent: string;
  answer: string | null;
}

/** One destination's queue, as the dashboard card shows it. */
export interface OutboxSummary {
  destinationId: string;
  pending: number;
  held: number;
  failed: number;
  deliveredToday: number;
  /** created_at of the oldest entry still waiting (pending or held); null when none waits. */
  oldestWaitingAt: number | null;
  lastError: string | null;
}

interface ItemRow {
  id: number;
  message_id: number;
  instrument_id: string;
  scope: OutboxScope;
  attempts: number;
  created_at: number;
  protocol: 'astm' | 'hl7';
  received_at: number;
  control_id: string | null;
  text: string;
  text_is_raw: number;
  raw: Buffer;
  raw_size: number | null;
  results: string | null;
  profile: string | null;
}

interface EntryRow {
  id: number;
  message_id: number;
  destination_id: string;
  state: OutboxState;
  attempts: number;
  last_attempt_at: number | null;
  delivered_at: number | null;
  error: string | null;
}

interface DestinationRow {
  id: string;
  config: string;
  source: InstrumentSource;
  held: number;
  created_at: number;
  updated_at: number;
}

/** An entry waiting for a destination on hold, or one no longer configured, is `held`. */
const STATE = `CASE WHEN o.state = 'pending'
    AND coalesce((SELECT d.held FROM destinations d WHERE d.id = o.destination_id), 1) = 1
  THEN 'held' ELSE o.state END`;

const ENTRY_COLUMNS = `o.id, o.message_id, o.destination_id, ${STATE} AS state, o.attempts,
  o.last_attempt_at, o.delivered_at, o.error`;

export class OutboxTable {
  private readonly insertEntry: Database.Statement<[number, string, string, string, number]>;
  private readonly selectEntries: Database.Statement<
    [{ destination: string | null; message: number | null; state: string | null; limit: number }],
    EntryRow
  >;
  private readonly upsertDestinationRow: Database.Statement<
    [string, string, InstrumentSource, number, number]
  >;
  private readonly selectDestination: Database.Statement<[string], DestinationRow>;
  private readonly selectDestinations: Database.Statement<[], DestinationRow>;
  private readonly deleteDestinationRow: Database.Statement<[string]>;
  private readonly updateHeld: Database.Statement<[number, number, string]>;
  private readonly selectItems: Database.Statement<[string, number, number], ItemRow>;
  private readonly selectResultsOf: Database.Statement<[string], ResultRow>;
  private readonly insertAttempt: Database.Statement<unknown[]>;
  private readonly markDelivered: Database.Statement<[number, number, number]>;
  private readonly markFailed: Database.Statement<[number, string | null, number]>;
  private readonly markRetry: Database.Statement<[number, string | null, number, number]>;
  private readonly resendMessage: Database.Statement<
    [{ message: number; destination: string | null }]
  >;
  private readonly resendFailedOf: Database.Statement<[{ destination: string | null }]>;
  private readonly selectAttempts: Database.Statement<[number, string], OutboxAttempt>;
  private readonly selectWaiting: Database.Statement<
    [{ id: string }],
    { n: number; oldest: number | null }
  >;
  private readonly selectFailedCount: Database.Statement<[string], number>;
  private readonly selectDeliveredSince: Database.Statement<[string, number], number>;
  private readonly selectWaitingDestinations: Database.Statement<[], string>;
  private readonly selectLastError: Database.Statement<[string], string>;
  private readonly selectHasPending: Database.Statement<[string], number>;
  private readonly selectStatesOf: Database.Statement<
    [string],
    { message_id: number; state: OutboxState }
  >;

  constructor(db: Database.Database) {
    this.insertEntry = db.prepare(
      `INSERT INTO outbox (message_id, destination_id, instrument_id, scope, created_at)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.selectEntries = db.prepare(
      `SELECT ${ENTRY_COLUMNS} FROM outbox o
       WHERE (@destination IS NULL OR o.destination_id = @destination)
         AND (@message IS NULL OR o.message_id = @message)
         AND (@state IS NULL OR ${STATE} = @state)
       ORDER BY o.id LIMIT @limit`,
    );
    this.upsertDestinationRow = db.prepare(
      `INSERT INTO destinations (id, config, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET config = excluded.config, source = excluded.source,
         updated_at = excluded.updated_at`,
    );
    const destinationColumns = 'id, config, source, held, created_at, updated_at';
    this.selectDestination = db.prepare(
      `SELECT ${destinationColumns} FROM destinations WHERE id = ?`,
    );
    this.selectDestinations = db.prepare(
      `SELECT ${destinationColumns} FROM destinations ORDER BY id`,
    );
    this.deleteDestinationRow = db.prepare('DELETE FROM destinations WHERE id = ?');
    this.updateHeld = db.prepare('UPDATE destinations SET held = ?, updated_at = ? WHERE id = ?');
    this.selectItems = db.prepare(
      `SELECT o.id, o.message_id, o.instrument_id, o.scope, o.attempts, o.created_at,
         m.protocol, m.received_at, m.control_id, m.text, m.text_is_raw, m.raw, m.raw_size, ${RESULTS_COLUMN},
         m.profile
       FROM outbox o JOIN messages m ON m.id = o.message_id
       WHERE o.destination_id = ? AND o.state = 'pending' AND o.id > ?
       ORDER BY o.id LIMIT ?`,
    );
    this.selectResultsOf = db.prepare(
      `SELECT ${RESULT_ROW_COLUMNS}
       FROM results WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, seq`,
    );
    this.insertAttempt = db.prepare(
      'INSERT INTO outbox_attempts (entry_id, at, outcome, sent, answer) VALUES (?, ?, ?, ?, ?)',
    );
    this.markDelivered = db.prepare(
      `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?,
         delivered_at = ?, error = NULL
       WHERE id = ? AND state = 'pending'`,
    );
    this.markFailed = db.prepare(
      `UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_attempt_at = ?,
         error = ?
       WHERE id = ? AND state = 'pending'`,
    );
    this.markRetry = db.prepare(
      `UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, error = ?,
         next_attempt_at = ?
       WHERE id = ? AND state = 'pending'`,
    );
    this.resendMessage = db.prepare(
      `UPDATE outbox SET state = 'pending', next_attempt_at = 0, delivered_at = NULL
       WHERE message_id = @message AND (@destination IS NULL OR destination_id = @destination)`,
    );
    this.resendFailedOf = db.prepare(
      `UPDATE outbox SET state = 'pending', next_attempt_at = 0
       WHERE state = 'failed' AND (@destination IS NULL OR destination_id = @destination)`,
    );
    this.selectAttempts = db.prepare(
      `SELECT a.at, a.outcome, a.sent, a.answer FROM outbox_attempts a
       JOIN outbox o ON o.id = a.entry_id
       WHERE o.message_id = ? AND o.destination_id = ? ORDER BY a.id`,
    );
    this.selectWaiting = db.prepare(
      `SELECT count(*) AS n, (SELECT created_at FROM outbox WHERE destination_id = @id
           AND state = 'pending' ORDER BY id LIMIT 1) AS oldest
       FROM outbox WHERE destination_id = @id AND state = 'pending'`,
    );
    this.selectFailedCount = db
      .prepare<[string], number>(
        `SELECT count(*) FROM outbox WHERE destination_id = ? AND state = 'failed'`,
      )
      .pluck();
    this.selectDeliveredSince = db
      .prepare<[string, number], number>(
        `SELECT count(*) FROM outbox
         WHERE destination_id = ? AND state = 'delivered' AND delivered_at >= ?`,
      )
      .pluck();
    this.selectWaitingDestinations = db
      .prepare<[], string>(`SELECT DISTINCT destination_id FROM outbox WHERE state = 'pending'`)
      .pluck();
    this.selectLastError = db
      .prepare<[string], string>(
        `SELECT error FROM outbox
         WHERE destination_id = ? AND state IN ('pending', 'failed') AND error IS NOT NULL
         ORDER BY last_attempt_at DESC LIMIT 1`,
      )
      .pluck();
    this.selectStatesOf = db.prepare(
      `SELECT o.message_id, ${STATE} AS state FROM outbox o
       WHERE o.message_id IN (SELECT value FROM json_each(?))`,
    );
    this.selectHasPending = db
      .prepare<[string], number>(
        `SELECT count(*) FROM (SELECT 1 FROM outbox
           WHERE destination_id = ? AND state = 'pending' LIMIT 1)`,
      )
      .pluck();
  }

  /**
   * Up to `limit` pending entries of a destination with an ID above `afterId`, oldest first,
   * each with its message and results: one read for a whole batch. (When to try again after a
   * failure is the forwarder's to decide, per destination, so that order is kept.)
   */
  pendingItems(destinationId: string, afterId: number, limit: number): DeliveryItem[] {
    const rows = this.selectItems.all(destinationId, afterId, limit);
    if (rows.length === 0) return [];
    const results = new Map<number, StoredResult[]>();
    for (const row of rows) {
      if (row.results !== null) results.set(row.message_id, resultsFromJson(row.results));
    }
    // Messages stored before results moved into their row, not converted yet.
    const older = [...new Set(rows.filter((r) => r.results === null).map((r) => r.message_id))];
    const oldRows = older.length === 0 ? [] : this.selectResultsOf.all(JSON.stringify(older));
    for (const row of oldRows) {
      let list = results.get(row.message_id);
      if (!list) results.set(row.message_id, (list = []));
      list.push(resultFromRow(row));
    }
    return rows.map((row) => {
      const raw = unpackRaw(row.raw, row.raw_size);
      return {
        id: row.id,
        messageId: row.message_id,
        instrumentId: row.instrument_id,
        scope: row.scope,
        attempts: row.attempts,
        createdAt: row.created_at,
        protocol: row.protocol,
        receivedAt: row.received_at,
        messageControlId: row.control_id,
        text: storedText(row.text, row.text_is_raw, raw),
        raw,
        profile: row.profile,
        results: results.get(row.message_id) ?? [],
      };
    });
  }

  /** Per message, the worst state of its entries: failed, held, pending, delivered. */
  statesOf(messageIds: readonly number[]): Map<number, OutboxState> {
    const rank: Record<OutboxState, number> = { failed: 3, held: 2, pending: 1, delivered: 0 };
    const out = new Map<number, OutboxState>();
    if (messageIds.length === 0) return out;
    for (const row of this.selectStatesOf.all(JSON.stringify(messageIds))) {
      const current = out.get(row.message_id);
      if (current === undefined || rank[row.state] > rank[current])
        out.set(row.message_id, row.state);
    }
    return out;
  }

  /** True when the destination has a pending entry. */
  hasPending(destinationId: string): boolean {
    return (this.selectHasPending.get(destinationId) ?? 0) > 0;
  }

  /** Call inside a write transaction: the outcomes of many attempts at once. */
  recordAttempts(records: readonly AttemptRecord[]): void {
    for (const r of records) {
      if (r.outcome === 'delivered') this.markDelivered.run(r.at, r.at, r.entryId);
      else if (r.outcome === 'failed') this.markFailed.run(r.at, r.error, r.entryId);
      else this.markRetry.run(r.at, r.error, r.nextAttemptAt ?? 0, r.entryId);
      this.insertAttempt.run(r.entryId, r.at, r.outcome, r.sent, r.answer);
    }
  }

  /** Call inside a write transaction. Entries set to be sent again; returns how many. */
  resend(messageId: number, destinationId: string | null): number {
    return this.resendMessage.run({ message: messageId, destination: destinationId }).changes;
  }

  /** Call inside a write transaction. Every failed entry (of one destination) sent again. */
  resendFailed(destinationId: string | null): number {
    return this.resendFailedOf.run({ destination: destinationId }).changes;
  }

  attempts(messageId: number, destinationId: string): OutboxAttempt[] {
    return this.selectAttempts.all(messageId, destinationId);
  }

  /**
   * The queues of these destinations and of every other one with entries waiting (a destination
   * removed from the setup), each read through an index.
   */
  summaries(destinationIds: readonly string[], dayStart: number): OutboxSummary[] {
    const ids = new Set(destinationIds);
    for (const id of this.selectWaitingDestinations.all()) ids.add(id);
    const held = new Map(this.listDestinations().map((d) => [d.id, d.held]));
    return [...ids].map((id) => {
      const waiting = this.selectWaiting.get({ id }) ?? { n: 0, oldest: null };
      const onHold = held.get(id) ?? true;
      return {
        destinationId: id,
        pending: onHold ? 0 : waiting.n,
        held: onHold ? waiting.n : 0,
        failed: this.selectFailedCount.get(id) ?? 0,
        deliveredToday: this.selectDeliveredSince.get(id, dayStart) ?? 0,
        oldestWaitingAt: waiting.oldest,
        lastError: this.selectLastError.get(id) ?? null,
      };
    });
  }

  /**
   * The one place outbox entries are written: call in the transaction that stored the message
   * `messageId`, for a message that was not a duplicate.
   */
  add(messageId: number, row: MessageRow): void {
    for (const target of row.outbox) {
      this.insertEntry.run(
        messageId,
        target.destinationId,
        row.instrumentId,
        target.scope,
        row.receivedAt,
      );
    }
  }

  list(filter: OutboxFilter): OutboxEntry[] {
    return this.selectEntries
      .all({
        destination: filter.destinationId ?? null,
        message: filter.messageId ?? null,
        state: filter.state ?? null,
        limit: filter.limit ?? 1000,
      })
      .map(toEntry);
  }

  /** Call inside a write transaction. */
  upsertDestination(
    id: string,
    configJson: string,
    source: InstrumentSource,
    now: number,
  ): DestinationRecord {
    this.upsertDestinationRow.run(id, configJson, source, now, now);
    const row = this.selectDestination.get(id);
    if (!row) throw new Error(`destination ${id} vanished while being saved`);
    return toDestination(row);
  }

  getDestination(id: string): DestinationRecord | null {
    const row = this.selectDestination.get(id);
    return row ? toDestination(row) : null;
  }

  listDestinations(): DestinationRecord[] {
    return this.selectDestinations.all().map(toDestination);
  }

  /** Call inside a write transaction. Its entries stay, held, until it is back or resent. */
  deleteDestination(id: string): boolean {
    return this.deleteDestinationRow.run(id).changes > 0;
  }

  /** Call inside a write transaction. False when no such destination. */
  setHeld(id: string, held: boolean, now: number): boolean {
    return this.updateHeld.run(held ? 1 : 0, now, id).changes > 0;
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function toEntry(row: EntryRow): OutboxEntry {
  return {
    messageId: row.message_id,
    destinationId: row.destination_id,
    state: row.state,
    attempts: row.attempts,
    controlId: outboxControlId(row.id),
    lastAttemptAt: iso(row.last_attempt_at),
    deliveredAt: iso(row.delivered_at),
    error: row.error,
  };
}

function toDestination(row: DestinationRow): DestinationRecord {
  return {
    id: row.id,
    config: JSON.parse(row.config) as unknown,
    source: row.source,
    held: row.held === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type { OutboxScope };
