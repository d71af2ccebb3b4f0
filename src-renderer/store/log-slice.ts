import type { LogEntryView } from '../../src-shared/contract';
import { eventMatchesSearch } from '../../src-shared/event-search';
import { getApi } from '../api';
import type { SliceCreator } from './app-state';
import { call } from './call';

/** The most entries the event log holds; beyond it the oldest are dropped. */
export const LOG_CAP = 1000;
export const LOG_PAGE = 100;

export type LogLevel = LogEntryView['level'];

export interface LogFilter {
  instrumentId: string | null;
  level: LogLevel | null;
  /** Text in the message, code, kind or instrument ID; '' for all. Matched by the gateway. */
  search: string;
}

export interface LogSlice {
  log: {
    /** Newest first, only entries matching `filter`. */
    entries: LogEntryView[];
    filter: LogFilter;
    /** Where the next older page starts; null when there is none or it was lost to the cap. */
    nextCursor: string | null;
    loading: boolean;
    loaded: boolean;
    error: string | null;
    /** Old entries were dropped to stay under the cap, so paging back from here is not possible. */
    trimmed: boolean;
  };
  /** Live entries from the `logged` event. */
  appendLogged(entries: readonly LogEntryView[]): void;
  setLogFilter(filter: Partial<LogFilter>): Promise<void>;
  /** The newest page for the current filter, replacing what is shown. */
  loadEvents(): Promise<void>;
  loadOlderEvents(): Promise<void>;
}

export function matchesLogFilter(entry: LogEntryView, filter: LogFilter): boolean {
  return (
    (filter.instrumentId === null || entry.instrumentId === filter.instrumentId) &&
    (filter.level === null || entry.level === filter.level) &&
    eventMatchesSearch(entry, filter.search)
  );
}

function entryKey(entry: LogEntryView): string {
  return `${entry.at}|${entry.instrumentId ?? ''}|${entry.kind}|${entry.code ?? ''}|${entry.message}`;
}

/**
 * Both lists merged newest first, without duplicates (the first page and the live stream overlap
 * at startup), and cut to `cap`. Says whether anything was cut.
 */
export function mergeLogEntries(
  held: readonly LogEntryView[],
  incoming: readonly LogEntryView[],
  cap: number = LOG_CAP,
): { entries: LogEntryView[]; trimmed: boolean } {
  const seen = new Set<string>();
  const merged: LogEntryView[] = [];
  for (const entry of [...incoming, ...held]) {
    const key = entryKey(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    merged.push(entry);
  }
  merged.sort((a, b) => b.at - a.at || (b.id ?? 0) - (a.id ?? 0));
  return merged.length > cap
    ? { entries: merged.slice(0, cap), trimmed: true }
    : { entries: merged, trimmed: false };
}

function queryOf(filter: LogFilter) {
  return {
    ...(filter.instrumentId === null ? {} : { instrumentId: filter.instrumentId }),
    ...(filter.level === null ? {} : { level: filter.level }),
    ...(filter.search.trim() === '' ? {} : { search: filter.search.trim() }),
  };
}

export const createLogSlice: SliceCreator<LogSlice> = (set, get) => {
  /** Answers to requests made for an older filter are dropped. */
  let generation = 0;

  return {
    log: {
      entries: [],
      filter: { instrumentId: null, level: null, search: '' },
      nextCursor: null,
      loading: false,
      loaded: false,
      error: null,
      trimmed: false,
    },

    appendLogged(entries) {
      const { filter } = get().log;
      const matching = entries.filter((entry) => matchesLogFilter(entry, filter));
      if (matching.length === 0) return;
      set((state) => {
        const merged = mergeLogEntries(state.log.entries, matching);
        return {
          log: {
            ...state.log,
            entries: merged.entries,
            trimmed: state.log.trimmed || merged.trimmed,
            nextCursor: merged.trimmed ? null : state.log.nextCursor,
          },
        };
      });
    },

    async setLogFilter(change) {
      set((state) => ({ log: { ...state.log, filter: { ...state.log.filter, ...change } } }));
      await get().loadEvents();
    },

    async loadEvents() {
      const mine = ++generation;
      const { filter } = get().log;
      set((state) => ({
        log: {
          ...state.log,
          entries: [],
          nextCursor: null,
          loading: true,
          error: null,
          trimmed: false,
        },
      }));
      const result = await call(() => getApi().listEvents({ ...queryOf(filter), limit: LOG_PAGE }));
      if (mine !== generation) return;
      set((state) => {
        if (!result.ok) {
          return { log: { ...state.log, loading: false, error: result.error.message } };
        }
        // Live entries that arrived while the page was on its way are kept.
        const merged = mergeLogEntries(state.log.entries, result.value.items);
        return {
          log: {
            ...state.log,
            entries: merged.entries,
            nextCursor: merged.trimmed ? null : result.value.nextCursor,
            trimmed: merged.trimmed,
            loading: false,
            loaded: true,
          },
        };
      });
    },

    async loadOlderEvents() {
      const { filter, nextCursor, loading } = get().log;
      if (nextCursor === null || loading) return;
      const mine = generation;
      set((state) => ({ log: { ...state.log, loading: true, error: null } }));
      const result = await call(() =>
        getApi().listEvents({ ...queryOf(filter), cursor: nextCursor, limit: LOG_PAGE }),
      );
      if (mine !== generation) return;
      set((state) => {
        if (!result.ok) {
          return { log: { ...state.log, loading: false, error: result.error.message } };
        }
        // Paging back is what the user asked for, so the cap does not cut these off.
        const merged = mergeLogEntries(state.log.entries, result.value.items, Infinity);
        return {
          log: {
            ...state.log,
            entries: merged.entries,
            nextCursor: result.value.nextCursor,
            loading: false,
          },
        };
      });
    },
  };
};
