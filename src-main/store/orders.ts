/**
 * Orders and their history. Every change to an order writes a history line in the same
 * transaction, so the history says exactly how an order came to be what it is.
 */
import type Database from 'better-sqlite3';
import type { Order, OrderHistoryEntry, OrderState } from '../../src-shared/orders';

/** What an order message (or a person) asks for one sample. */
export interface OrderChange {
  /** `new` adds the tests (a resend adds nothing), `change` replaces them, `cancel` removes them. */
  action: 'new' | 'change' | 'cancel';
  sampleId: string;
  patientId?: string | null;
  patientName?: string | null;
  /** LIS codes; for `cancel`, empty means the whole order. */
  tests: readonly string[];
  priority?: string | null;
  instrumentId?: string | null;
  /** An order source's id, `manual` or `import`. */
  source: string;
}

export interface OrderChangeOutcome {
  orderId: number | null;
  /** Plain words for the history and the log. */
  detail: string;
}

export interface OrderFilter {
  sampleId?: string;
  state?: OrderState;
  instrumentId?: string;
  limit?: number;
}

/** A result as tracking sees it: its sample and its test in LIS codes. */
export interface ResultForOrders {
  sampleId: string;
  lisCode: string;
}

export interface TrackingOutcome {
  /** Orders that now have every ordered test resulted. */
  resulted: number[];
  /** Orders with some tests resulted, not all. */
  partial: number[];
  /** Samples of results no open order asked for. */
  unsolicited: string[];
}

interface Row {
  id: number;
  sample_id: string;
  patient_id: string | null;
  patient_name: string | null;
  tests: string;
  resulted_tests: string;
  priority: string | null;
  instrument_id: string | null;
  state: OrderState;
  source: string;
  received_at: number;
  sent_at: number | null;
  resulted_at: number | null;
}

interface HistoryRow {
  at: number;
  kind: OrderHistoryEntry['kind'];
  instrument_id: string | null;
  message_id: number | null;
  detail: string;
}

const COLUMNS = `id, sample_id, patient_id, patient_name, tests, resulted_tests, priority,
  instrument_id, state, source, received_at, sent_at, resulted_at`;
const OPEN = `state IN ('pending', 'sent')`;

export class OrderTable {
  private readonly insertRow: Database.Statement;
  private readonly updateTests: Database.Statement;
  private readonly updateState: Database.Statement;
  private readonly updateSent: Database.Statement;
  private readonly updateResulted: Database.Statement;
  private readonly insertHistory: Database.Statement;
  private readonly openForSample: Database.Statement<[string, string | null], Row>;
  private readonly openForInstrument: Database.Statement<[string, string, number], Row>;
  private readonly pushable: Database.Statement<[string], Row>;
  private readonly cancellable: Database.Statement<[string], Row>;
  private readonly updateCancelSent: Database.Statement;
  private readonly openInRange: Database.Statement<
    [{ from: string; to: string; instrument: string; length: number }],
    Row
  >;
  private readonly openForAny: Database.Statement<[string, number], Row>;
  private readonly byId: Database.Statement<[number], Row>;
  private readonly historyOf: Database.Statement<[number], HistoryRow>;
  private readonly resultedBy: Database.Statement<[number], Row>;
  private readonly stale: Database.Statement<[number, number], { id: number }>;
  private readonly pendingCounts: Database.Statement<
    [],
    { instrument_id: string | null; n: number }
  >;
  private readonly bySourceSince: Database.Statement<[number], { source: string; n: number }>;
  private readonly db: Database.Database;
  /** One statement per combination of filters, prepared on first use. */
  private readonly listings = new Map<string, Database.Statement<unknown[], Row>>();

  constructor(db: Database.Database) {
    this.db = db;
    this.insertRow = db.prepare(
      `INSERT INTO orders (sample_id, patient_id, patient_name, tests, priority, instrument_id,
         state, source, received_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
    );
    this.updateTests = db.prepare(
      `UPDATE orders SET tests = ?, patient_id = coalesce(?, patient_id),
         patient_name = coalesce(?, patient_name), priority = coalesce(?, priority),
         state = 'pending', updated_at = ? WHERE id = ?`,
    );
    this.updateState = db.prepare('UPDATE orders SET state = ?, updated_at = ? WHERE id = ?');
    this.updateSent = db.prepare(
      `UPDATE orders SET state = CASE WHEN state = 'pending' THEN 'sent' ELSE state END,
         sent_at = ?, updated_at = ? WHERE id = ?`,
    );
    this.updateResulted = db.prepare(
      `UPDATE orders SET resulted_tests = ?, state = ?, resulted_at = ?, updated_at = ?
       WHERE id = ?`,
    );
    this.insertHistory = db.prepare(
      `INSERT INTO order_history (order_id, at, kind, instrument_id, message_id, detail)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.openForSample = db.prepare(
      `SELECT ${COLUMNS} FROM orders WHERE sample_id = ? AND ${OPEN}
         AND instrument_id IS ? ORDER BY id`,
    );
    this.openForInstrument = db.prepare(
      `SELECT ${COLUMNS} FROM orders WHERE sample_id = ? AND ${OPEN}
         AND (instrument_id IS NULL OR instrument_id = ?) AND id > ? ORDER BY id`,
    );
    this.pushable = db.prepare(
      `SELECT ${COLUMNS} FROM orders WHERE instrument_id = ? AND state = 'pending' ORDER BY id`,
    );
    // The same length as the range's ends when both have it: 0001 … 0100 are padded numbers.
    this.openInRange = db.prepare(
      `SELECT ${COLUMNS} FROM orders WHERE sample_id BETWEEN @from AND @to AND ${OPEN}
         AND (instrument_id IS NULL OR instrument_id = @instrument)
         AND (@length = 0 OR length(sample_id) = @length) ORDER BY sample_id, id`,
    );
    this.openForAny = db.prepare(
      `SELECT ${COLUMNS} FROM orders WHERE state = 'pending'
         AND (instrument_id IS NULL OR instrument_id = ?) ORDER BY id LIMIT ?`,
    );
    this.cancellable = db.prepare(
      `SELECT ${COLUMNS} FROM orders WHERE instrument_id = ? AND state = 'cancelled'
         AND sent_at IS NOT NULL AND cancel_sent_at IS NULL ORDER BY id`,
    );
    this.updateCancelSent = db.prepare(
      'UPDATE orders SET cancel_sent_at = ?, updated_at = ? WHERE id = ?',
    );
    this.bySourceSince = db.prepare(
      'SELECT source, count(*) AS n FROM orders WHERE received_at >= ? GROUP BY source',
    );
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM orders WHERE id = ?`);
    this.historyOf = db.prepare(
      `SELECT at, kind, instrument_id, message_id, detail FROM order_history
       WHERE order_id = ? ORDER BY at, id`,
    );
    this.resultedBy = db.prepare(
      `SELECT ${COLUMNS} FROM orders WHERE id IN
         (SELECT order_id FROM order_history WHERE message_id = ? AND kind IN ('result', 'resulted'))`,
    );
    this.stale = db.prepare(
      `SELECT id FROM orders WHERE ${OPEN} AND received_at < ? ORDER BY received_at LIMIT ?`,
    );
    this.pendingCounts = db.prepare(
      `SELECT instrument_id, count(*) AS n FROM orders WHERE state = 'pending'
       GROUP BY instrument_id`,
    );
  }

  /** Call inside a write transaction. */
  apply(change: OrderChange, at: number): OrderChangeOutcome {
    const target = change.instrumentId ?? null;
    const open = this.openForSample.get(change.sampleId, target);
    const tests = distinctCodes(change.tests);
    if (change.action === 'cancel') {
      if (!open) return { orderId: null, detail: `no open order for sample ${change.sampleId}` };
      const left = tests.length === 0 ? [] : parse(open.tests).filter((t) => !tests.includes(t));
      if (left.length === 0) {
        this.updateState.run('cancelled', at, open.id);
        this.history(open.id, at, 'cancelled', null, null, `cancelled by ${change.source}`);
        return { orderId: open.id, detail: 'cancelled' };
      }
      this.updateTests.run(JSON.stringify(left), null, null, null, at, open.id);
      const detail = `tests ${tests.join(', ')} cancelled by ${change.source}`;
      this.history(open.id, at, 'changed', null, null, detail);
      return { orderId: open.id, detail };
    }
    if (!open) {
      const info = this.insertRow.run(
        change.sampleId,
        change.patientId ?? null,
        change.patientName ?? null,
        JSON.stringify(tests),
        change.priority ?? null,
        target,
        change.source,
        at,
        at,
      );
      const id = Number(info.lastInsertRowid);
      this.history(id, at, 'received', null, null, `from ${change.source}: ${tests.join(', ')}`);
      return { orderId: id, detail: 'new order' };
    }
    const before = parse(open.tests);
    const next = change.action === 'change' ? tests : distinctCodes([...before, ...tests]);
    if (change.action === 'new' && next.length === before.length) {
      // The same order again (a resend): nothing changes, the history says it came.
      this.history(open.id, at, 'received', null, null, `again from ${change.source}`);
      return { orderId: open.id, detail: 'already known' };
    }
    this.updateTests.run(
      JSON.stringify(next),
      change.patientId ?? null,
      change.patientName ?? null,
      change.priority ?? null,
      at,
      open.id,
    );
    const detail = `tests now ${next.join(', ')} (${change.action === 'change' ? 'changed' : 'added'} by ${change.source})`;
    this.history(open.id, at, 'changed', null, null, detail);
    return { orderId: open.id, detail };
  }

  /** Open orders for the sample meant for this instrument or any, after `afterId`. */
  openFor(sampleId: string, instrumentId: string, afterId = 0): Order[] {
    return this.openForInstrument.all(sampleId, instrumentId, afterId).map(toOrder);
  }

  /** Open orders for the samples from `from` to `to` (both included), this instrument's or any. */
  openBetween(from: string, to: string, instrumentId: string): Order[] {
    const length = from.length === to.length ? from.length : 0;
    return this.openInRange.all({ from, to, instrument: instrumentId, length }).map(toOrder);
  }

  /** Pending orders for this instrument or any, oldest first (a query for `ALL`). */
  pendingFor(instrumentId: string, limit: number): Order[] {
    return this.openForAny.all(instrumentId, limit).map(toOrder);
  }

  /** Orders meant for this instrument that were not sent yet, oldest first. */
  toPush(instrumentId: string): Order[] {
    return this.pushable.all(instrumentId).map(toOrder);
  }

  /** Orders meant for this instrument, sent to it, cancelled since, and not told to it yet. */
  cancelsToPush(instrumentId: string): Order[] {
    return this.cancellable.all(instrumentId).map(toOrder);
  }

  get(id: number): Order | null {
    const row = this.byId.get(id);
    return row ? toOrder(row) : null;
  }

  history(
    orderId: number,
    at: number,
    kind: OrderHistoryEntry['kind'],
    instrumentId: string | null,
    messageId: number | null,
    detail: string,
  ): void {
    this.insertHistory.run(orderId, at, kind, instrumentId, messageId, detail);
  }

  historyFor(orderId: number): OrderHistoryEntry[] {
    return this.historyOf.all(orderId).map((row) => ({
      at: new Date(row.at).toISOString(),
      kind: row.kind,
      instrumentId: row.instrument_id,
      messageId: row.message_id,
      detail: row.detail,
    }));
  }

  /** Call inside a write transaction. */
  markSent(ids: readonly number[], instrumentId: string, messageId: number | null, at: number) {
    for (const id of ids) {
      this.updateSent.run(at, at, id);
      this.history(id, at, 'sent', instrumentId, messageId, `sent to ${instrumentId}`);
    }
  }

  /** Call inside a write transaction. The instrument was told these orders are cancelled. */
  markCancelsSent(
    ids: readonly number[],
    instrumentId: string,
    messageId: number | null,
    at: number,
  ): void {
    for (const id of ids) {
      this.updateCancelSent.run(at, at, id);
      this.history(id, at, 'sent', instrumentId, messageId, `cancellation sent to ${instrumentId}`);
    }
  }

  /** Call inside a write transaction. */
  cancel(id: number, at: number, by: string): boolean {
    const row = this.byId.get(id);
    if (!row || (row.state !== 'pending' && row.state !== 'sent')) return false;
    this.updateState.run('cancelled', at, id);
    this.history(id, at, 'cancelled', null, null, `cancelled by ${by}`);
    return true;
  }

  /** Call inside a write transaction. */
  track(
    instrumentId: string,
    messageId: number,
    results: readonly ResultForOrders[],
    at: number,
  ): TrackingOutcome {
    const outcome: TrackingOutcome = { resulted: [], partial: [], unsolicited: [] };
    const bySample = new Map<string, Set<string>>();
    for (const r of results) {
      const key = r.sampleId;
      if (!bySample.has(key)) bySample.set(key, new Set());
      bySample.get(key)!.add(r.lisCode);
    }
    for (const [sampleId, codes] of bySample) {
      const orders = this.openFor(sampleId, instrumentId);
      const wanted = orders.filter((o) => o.tests.some((t) => codes.has(t)));
      if (wanted.length === 0) {
        outcome.unsolicited.push(sampleId);
        continue;
      }
      for (const order of wanted) {
        const done = distinctCodes([
          ...order.resultedTests,
          ...order.tests.filter((t) => codes.has(t)),
        ]);
        const complete = order.tests.every((t) => done.includes(t));
        this.updateResulted.run(
          JSON.stringify(done),
          complete ? 'resulted' : order.state,
          complete ? at : null,
          at,
          order.id,
        );
        const got = order.tests.filter((t) => codes.has(t)).join(', ');
        this.history(
          order.id,
          at,
          complete ? 'resulted' : 'result',
          instrumentId,
          messageId,
          complete ? `resulted: ${got}` : `partially resulted: ${got}`,
        );
        (complete ? outcome.resulted : outcome.partial).push(order.id);
      }
    }
    return outcome;
  }

  /** Orders this message's results moved. */
  resultedByMessage(messageId: number): Order[] {
    return this.resultedBy.all(messageId).map(toOrder);
  }

  /** Call inside a write transaction. Open orders received before `before`, oldest first. */
  expire(before: number, at: number, limit: number): number {
    const ids = this.stale.all(before, limit).map((r) => r.id);
    for (const id of ids) {
      this.updateState.run('cancelled', at, id);
      this.history(id, at, 'expired', null, null, 'expired: no result came in time');
    }
    return ids.length;
  }

  list(filter: OrderFilter): Order[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.sampleId !== undefined) {
      where.push('sample_id = ?');
      args.push(filter.sampleId);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    if (filter.instrumentId !== undefined) {
      where.push('instrument_id = ?');
      args.push(filter.instrumentId);
    }
    const sql = `SELECT ${COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT ?`;
    args.push(filter.limit ?? 1000);
    let statement = this.listings.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], Row>(sql);
      this.listings.set(sql, statement);
    }
    return statement.all(...args).map(toOrder);
  }

  /** Orders received since `since`, per source (an order source's id, `manual`, `import`). */
  countsBySource(since: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.bySourceSince.all(since)) out[row.source] = row.n;
    return out;
  }

  /** Pending orders per target instrument; the key '' counts those for any instrument. */
  pending(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.pendingCounts.all()) out[row.instrument_id ?? ''] = row.n;
    return out;
  }
}

function parse(json: string): string[] {
  return JSON.parse(json) as string[];
}

function distinctCodes(codes: readonly string[]): string[] {
  return [...new Set(codes.map((c) => c.trim()).filter((c) => c !== ''))];
}

function iso(at: number | null): string | null {
  return at === null ? null : new Date(at).toISOString();
}

function toOrder(row: Row): Order {
  return {
    id: row.id,
    sampleId: row.sample_id,
    patientId: row.patient_id,
    patientName: row.patient_name,
    tests: parse(row.tests),
    resultedTests: parse(row.resulted_tests),
    priority: row.priority,
    instrumentId: row.instrument_id,
    state: row.state,
    source: row.source,
    receivedAt: new Date(row.received_at).toISOString(),
    sentAt: iso(row.sent_at),
    resultedAt: iso(row.resulted_at),
  };
}
