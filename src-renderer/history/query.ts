/**
 * The history's query: the filters a user picks, how they become a `queryMessages` request, and
 * how live messages are judged and merged into a loaded list without a round trip.
 */
import type { MessageQuery, StoredMessageEvent } from '../../src-shared/contract';
import type { Protocol } from '../../src-shared/results';
import { wallToEpoch, zonedParts } from '../../src-shared/time-zone';
import type { MessageSummary } from '../../src-shared/status';

export type TimeRange = 'hour' | 'today' | 'week' | 'all' | 'custom';
export type SortOrder = 'desc' | 'asc';

export interface HistoryFilters {
  instrumentId: string | null;
  protocol: Protocol | null;
  direction: 'in' | 'out' | null;
  status: string | null;
  /** true: messages with QC or calibration results; false: patient results only; null: all. */
  qc: boolean | null;
  /** Messages whose delivery to the LIS is in this state; null: all. */
  forwarding: 'pending' | 'delivered' | 'failed' | 'held' | null;
  range: TimeRange;
  /**
   * The custom range, as `datetime-local` inputs give it (`2026-03-02T08:00`), in the gateway's
   * time zone; '' leaves that end open. `customTo` includes its whole minute.
   */
  customFrom: string;
  customTo: string;
  order: SortOrder;
  /** Sample ID, patient ID, test code or words of the text; matched by the gateway. */
  search: string;
}

export const DEFAULT_FILTERS: HistoryFilters = {
  instrumentId: null,
  protocol: null,
  direction: null,
  status: null,
  qc: null,
  forwarding: null,
  range: 'all',
  customFrom: '',
  customTo: '',
  order: 'desc',
  search: '',
};

export const TIME_RANGES: { value: TimeRange; label: string }[] = [
  { value: 'hour', label: 'Last hour' },
  { value: 'today', label: 'Today' },
  { value: 'week', label: 'Last 7 days' },
  { value: 'all', label: 'All time' },
  { value: 'custom', label: 'Custom range' },
];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The times the filters include: `from` inclusive, `to` exclusive, each undefined when open.
 * Today starts at midnight in `timeZone` (the gateway's), as does a custom range's wall-clock
 * time. `problem` says, in plain words, why a custom range cannot be used.
 */
export function timeBounds(
  filters: Pick<HistoryFilters, 'range' | 'customFrom' | 'customTo'>,
  now: number,
  timeZone?: string,
): { from?: number; to?: number; problem?: string } {
  switch (filters.range) {
    case 'hour':
      return { from: now - HOUR_MS };
    case 'today': {
      const parts = zonedParts(now, timeZone);
      const pad = (n: number) => String(n).padStart(2, '0');
      const midnight = wallToEpoch(
        `${parts.year}-${pad(parts.month)}-${pad(parts.day)}T00:00`,
        timeZone,
      );
      return { from: midnight ?? now - DAY_MS };
    }
    case 'week':
      return { from: now - 7 * DAY_MS };
    case 'all':
      return {};
    case 'custom': {
      const bounds: { from?: number; to?: number; problem?: string } = {};
      if (filters.customFrom.trim() !== '') {
        const from = wallToEpoch(filters.customFrom, timeZone);
        if (from === null) return { problem: 'The start is not a date and time.' };
        bounds.from = from;
      }
      if (filters.customTo.trim() !== '') {
        const to = wallToEpoch(filters.customTo, timeZone);
        if (to === null) return { problem: 'The end is not a date and time.' };
        bounds.to = to + 60_000;
      }
      if (bounds.from !== undefined && bounds.to !== undefined && bounds.from >= bounds.to)
        return { ...bounds, problem: 'The start is after the end: no message can match.' };
      return bounds;
    }
  }
}

/**
 * The request for the filters; `from` and `to` are fixed when the query runs so pages stay
 * consistent.
 */
export function toMessageQuery(
  filters: HistoryFilters,
  from: number | undefined,
  to?: number,
): MessageQuery {
  const query: MessageQuery = { order: filters.order };
  if (filters.instrumentId) query.instrumentId = filters.instrumentId;
  if (filters.protocol) query.protocol = filters.protocol;
  if (filters.direction) query.direction = filters.direction;
  if (filters.status) query.status = filters.status;
  if (filters.qc !== null) query.qc = filters.qc;
  if (filters.forwarding !== null) query.forwarding = filters.forwarding;
  if (from !== undefined) query.from = from;
  if (to !== undefined) query.to = to;
  const search = filters.search.trim();
  if (search) query.search = search;
  return query;
}

type LiveFields = Pick<
  StoredMessageEvent,
  'instrumentId' | 'protocol' | 'direction' | 'status' | 'receivedAt' | 'qc'
>;

/** Whether a message passes every filter except the free-text search (the gateway's to judge). */
export function passesFilters(
  message: LiveFields,
  filters: HistoryFilters,
  from: number | undefined,
  to?: number,
): boolean {
  return (
    (filters.instrumentId === null || message.instrumentId === filters.instrumentId) &&
    (filters.protocol === null || message.protocol === filters.protocol) &&
    (filters.direction === null || message.direction === filters.direction) &&
    (filters.status === null || message.status === filters.status) &&
    (filters.qc === null || message.qc === filters.qc) &&
    // Where a new message's delivery stands is known after the next query, not from its event.
    filters.forwarding === null &&
    (from === undefined || message.receivedAt >= from) &&
    (to === undefined || message.receivedAt < to)
  );
}

export function hasSearch(filters: HistoryFilters): boolean {
  return filters.search.trim() !== '';
}

/** A stored-message event as a list row; the text preview arrives with the next query. */
export function summaryOf(event: StoredMessageEvent): MessageSummary {
  return {
    id: event.id,
    instrumentId: event.instrumentId,
    protocol: event.protocol,
    direction: event.direction,
    receivedAt: event.receivedAt,
    controlId: event.controlId,
    sampleIds: event.sampleIds,
    patientIds: event.patientIds,
    // Not in the event; the next query brings them, and the row does not show them.
    testCodes: [],
    status: event.status,
    ack: event.ack,
    resultCount: event.resultCount,
    errorCount: event.errorCount,
    qc: event.qc,
    preview: '',
    size: 0,
  };
}

type Ordered = Pick<MessageSummary, 'id' | 'receivedAt'>;

/** Negative when `a` is newer than `b`: the gateway's (received_at, id) descending order. */
export function newestFirst(a: Ordered, b: Ordered): number {
  return b.receivedAt - a.receivedAt || b.id - a.id;
}

/**
 * Merges fresh messages into a list sorted by `order`, skipping IDs already present. Fresh
 * messages are the newest, so only the newest end of the list is compared and the rest is
 * copied untouched: cheap even with hundreds of thousands of rows.
 */
export function mergeFresh<T extends Ordered>(
  items: readonly T[],
  fresh: readonly T[],
  order: SortOrder,
): T[] {
  if (fresh.length === 0) return items.slice();
  const sortedFresh = fresh.slice().sort(newestFirst);
  const oldestFresh = sortedFresh[sortedFresh.length - 1]!;
  const newestEnd = order === 'desc' ? items : items.slice().reverse();
  let overlap = 0;
  while (overlap < newestEnd.length && newestFirst(newestEnd[overlap]!, oldestFresh) <= 0) {
    overlap++;
  }
  const seen = new Set<number>();
  for (let i = 0; i < overlap; i++) seen.add(newestEnd[i]!.id);
  const merged: T[] = newestEnd.slice(0, overlap);
  for (const item of sortedFresh) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    merged.push(item);
  }
  merged.sort(newestFirst);
  if (order === 'desc') return merged.concat(items.slice(overlap));
  return items.slice(0, items.length - overlap).concat(merged.reverse());
}
