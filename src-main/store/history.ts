/**
 * History queries: pages of message summaries by time, instrument, status, sample or patient ID
 * and search words, newest first, in keyset pages.
 */
import type Database from 'better-sqlite3';
import type { Protocol } from '../../src-shared/results';
import { afterClause, decodeCursor, pageLimit, toPage, type Position } from './paging';
import { matchesSearch, mayMatch, planSearch, type SearchPlan } from './search';
import type { Direction, MessageFilter, MessageSummary, Page, SortOrder } from './types';

const PREVIEW_CHARS = 200;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;
/**
 * Rows a search reads in history order before it asks the indexes. A frequent word shows up among
 * them sooner than an index could list all its matches for sorting; when it does not, the word
 * is rare and the index has few candidates to sort.
 */
const SEARCH_SCAN_ROWS = 2_000;

export const SUMMARY_COLUMNS = `m.id, m.instrument_id, m.protocol, m.direction, m.received_at,
  m.control_id, m.sample_ids, m.patient_ids, m.test_codes, m.status, m.ack, m.result_count,
  m.error_count, substr(m.text, 1, ${PREVIEW_CHARS}) AS preview, length(m.raw) AS size`;

const SCAN_COLUMNS = `m.id, m.received_at, m.text, m.sample_ids, m.patient_ids, m.test_codes,
  m.control_id`;

export interface SummaryRow {
  id: number;
  instrument_id: string;
  protocol: Protocol;
  direction: Direction;
  received_at: number;
  control_id: string | null;
  sample_ids: string;
  patient_ids: string;
  test_codes: string;
  status: string;
  ack: string | null;
  result_count: number;
  error_count: number;
  preview: string;
  size: number;
}

interface ScanRow {
  id: number;
  received_at: number;
  text: string;
  sample_ids: string;
  patient_ids: string;
  test_codes: string;
  control_id: string | null;
}

/**
 * Which table's index drives a query, and so yields rows in (received_at, id) order: messages by
 * time (or by instrument, or the partial index of problem statuses, as SQLite sees fit), the
 * sample or patient ID lookups, or the search indexes' candidates, which alone need a sort.
 */
type Driver = 'time' | 'samples' | 'patients' | 'candidates';

interface QueryShape {
  driver: Driver;
  limit: number;
  /** Rows must pass the exact check for these words; the 'candidates' driver lists them. */
  search?: SearchPlan;
  columns?: 'summary' | 'scan';
}

interface BuiltQuery {
  sql: string;
  params: unknown[];
}

export class MessageHistory {
  /** Queries vary with the filter; each distinct one is prepared once and kept. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Plans of the searches running now, for the search_match function. */
  private readonly searches = new Map<string, SearchPlan>();
  private readonly selectCandidates: Database.Statement<[string], number>;

  constructor(private readonly db: Database.Database) {
    db.function(
      'search_match',
      { deterministic: true },
      (
        key: string,
        text: string,
        samples: string,
        patients: string,
        codes: string,
        control: string | null,
      ) => {
        const plan = this.searches.get(key);
        if (!plan) return 0;
        return matchesSearch(plan, { text, ids: idsOf(samples, patients, codes, control) }) ? 1 : 0;
      },
    );
    this.selectCandidates = db
      .prepare<[string], number>(
        'SELECT rowid FROM message_search WHERE message_search MATCH ? ORDER BY rowid',
      )
      .pluck();
  }

  query(filter: MessageFilter): Page<MessageSummary> {
    const limit = pageLimit(filter.limit, DEFAULT_PAGE, MAX_PAGE);
    const order: SortOrder = filter.order === 'asc' ? 'asc' : 'desc';
    const after = decodeCursor(filter.cursor);
    const search = filter.search === undefined ? null : planSearch(filter.search);
    const rows = search
      ? this.withSearch(search, () => this.searchRows(filter, order, after, limit, search))
      : this.all<SummaryRow>(
          buildQuery(filter, order, after, { driver: driverFor(filter), limit: limit + 1 }),
        );
    return toPage(rows, limit, positionOf, toSummary);
  }

  /** The plans SQLite chose for the statements `query(filter)` may run. */
  explain(filter: MessageFilter): string[] {
    const order: SortOrder = filter.order === 'asc' ? 'asc' : 'desc';
    const after = decodeCursor(filter.cursor);
    const search = filter.search === undefined ? null : planSearch(filter.search);
    const driver = driverFor(filter);
    const shapes: QueryShape[] = [];
    if (!search) shapes.push({ driver, limit: DEFAULT_PAGE + 1 });
    else if (driver !== 'time') shapes.push({ driver, limit: DEFAULT_PAGE + 1, search });
    else {
      shapes.push({ driver: 'time', limit: SEARCH_SCAN_ROWS, columns: 'scan' });
      shapes.push({ driver: 'candidates', limit: DEFAULT_PAGE + 1, search });
    }
    return shapes.map((shape) => {
      const query = buildQuery(filter, order, after, shape);
      return this.db
        .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .all(...query.params)
        .map((row) => (row as { detail: string }).detail)
        .join('; ');
    });
  }

  /**
   * IDs of the messages the search indexes list for `search`, before the exact check: for tests
   * that the indexes forget purged messages, and for diagnosis.
   */
  indexCandidates(search: string): number[] {
    const plan = planSearch(search);
    return plan ? this.selectCandidates.all(plan.match) : [];
  }

  /**
   * By ID lookup: the exact check filters the few rows of that ID. Otherwise history is read
   * newest first for a while, which finds frequent words fast; if that does not fill the page, the
   * most selective word's index candidates are sorted and checked.
   */
  private searchRows(
    filter: MessageFilter,
    order: SortOrder,
    after: Position | null,
    limit: number,
    search: SearchPlan,
  ): SummaryRow[] {
    const driver = driverFor(filter);
    if (driver !== 'time') {
      return this.all(buildQuery(filter, order, after, { driver, limit: limit + 1, search }));
    }
    const matched: number[] = [];
    let position = after;
    let read = 0;
    const scan = buildQuery(filter, order, after, {
      driver: 'time',
      limit: SEARCH_SCAN_ROWS,
      columns: 'scan',
    });
    for (const row of this.statement(scan.sql).iterate(...scan.params) as Iterable<ScanRow>) {
      read++;
      position = { time: row.received_at, id: row.id };
      const ids = `${row.sample_ids}${row.patient_ids}${row.test_codes}${row.control_id ?? ''}`;
      if (!mayMatch(search, row.text.toLowerCase(), ids.toLowerCase())) continue;
      const exact = idsOf(row.sample_ids, row.patient_ids, row.test_codes, row.control_id);
      if (!matchesSearch(search, { text: row.text, ids: exact })) continue;
      matched.push(row.id);
      if (matched.length > limit) break;
    }
    const found = this.summaries(matched, order);
    if (matched.length > limit || read < SEARCH_SCAN_ROWS) return found;
    const rest = buildQuery(filter, order, position, {
      driver: 'candidates',
      limit: limit + 1 - found.length,
      search,
    });
    return found.concat(this.all<SummaryRow>(rest));
  }

  private summaries(ids: number[], order: SortOrder): SummaryRow[] {
    if (ids.length === 0) return [];
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM messages m
      WHERE m.id IN (SELECT value FROM json_each(?))
      ORDER BY m.received_at ${order}, m.id ${order}`;
    return this.statement(sql).all(JSON.stringify(ids)) as SummaryRow[];
  }

  private withSearch<T>(search: SearchPlan, run: () => T): T {
    this.searches.set(search.key, search);
    try {
      return run();
    } finally {
      this.searches.delete(search.key);
    }
  }

  private all<Row>(query: BuiltQuery): Row[] {
    return this.statement(query.sql).all(...query.params) as Row[];
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function driverFor(filter: MessageFilter): Driver {
  if (filter.sampleId !== undefined) return 'samples';
  if (filter.patientId !== undefined) return 'patients';
  return 'time';
}

/**
 * One history query. The driving index yields rows in (received_at, id) order, so ORDER BY costs
 * nothing and LIMIT stops the scan early; CROSS JOIN keeps SQLite from choosing another order.
 */
function buildQuery(
  filter: MessageFilter,
  order: SortOrder,
  after: Position | null,
  shape: QueryShape,
): BuiltQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  let from = 'messages m';
  let [time, id] = ['m.received_at', 'm.id'];
  if (shape.driver === 'samples' || shape.driver === 'patients') {
    const [table, column, value] =
      shape.driver === 'samples'
        ? ['message_samples', 'sample_id', filter.sampleId]
        : ['message_patients', 'patient_id', filter.patientId];
    from = `${table} k CROSS JOIN messages m ON m.id = k.message_id`;
    [time, id] = ['k.received_at', 'k.message_id'];
    where.push(`k.${column} = ?`);
    params.push(value);
  } else if (shape.driver === 'candidates') {
    from = `(SELECT rowid AS id FROM message_search WHERE message_search MATCH ?) AS hit
      CROSS JOIN messages m ON m.id = hit.id`;
    params.push(shape.search?.match);
  }
  if (shape.driver === 'samples' && filter.patientId !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM message_patients p WHERE p.patient_id = ?
      AND p.received_at = m.received_at AND p.message_id = m.id)`);
    params.push(filter.patientId);
  }
  const equal = (column: string, value: unknown): void => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal('m.instrument_id', filter.instrumentId);
  equal('m.protocol', filter.protocol);
  equal('m.direction', filter.direction);
  equal('m.status', filter.status);
  // Spelled out so that SQLite may use the partial index of messages with problems.
  if (filter.status !== undefined && filter.status !== 'stored') where.push(`m.status <> 'stored'`);
  if (filter.from !== undefined) {
    where.push(`${time} >= ?`);
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    where.push(`${time} < ?`);
    params.push(filter.to);
  }
  if (after) {
    where.push(afterClause(time, id, order));
    params.push(after.time, after.id);
  }
  if (shape.search) {
    where.push(
      'search_match(?, m.text, m.sample_ids, m.patient_ids, m.test_codes, m.control_id) = 1',
    );
    params.push(shape.search.key);
  }
  const columns = shape.columns === 'scan' ? SCAN_COLUMNS : SUMMARY_COLUMNS;
  const sql = `SELECT ${columns} FROM ${from}
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${time} ${order}, ${id} ${order} LIMIT ${shape.limit}`;
  return { sql, params };
}

function idsOf(samples: string, patients: string, codes: string, control: string | null): string[] {
  const ids = [
    ...(JSON.parse(samples) as string[]),
    ...(JSON.parse(patients) as string[]),
    ...(JSON.parse(codes) as string[]),
  ];
  if (control !== null) ids.push(control);
  return ids;
}

function positionOf(row: SummaryRow): Position {
  return { time: row.received_at, id: row.id };
}

export function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    instrumentId: row.instrument_id,
    protocol: row.protocol,
    direction: row.direction,
    receivedAt: row.received_at,
    controlId: row.control_id,
    sampleIds: JSON.parse(row.sample_ids) as string[],
    patientIds: JSON.parse(row.patient_ids) as string[],
    testCodes: JSON.parse(row.test_codes) as string[],
    status: row.status,
    ack: row.ack,
    resultCount: row.result_count,
    errorCount: row.error_count,
    preview: row.preview,
    size: row.size,
  };
}
