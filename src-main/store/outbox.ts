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
