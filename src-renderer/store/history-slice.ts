import type { StateCreator } from 'zustand';
import type {
  CommandError,
  CommandResult,
  MessageDetail,
  StoredMessageEvent,
} from '../../src-shared/contract';
import type { MessageSummary } from '../../src-shared/status';
import { getApi } from '../api';
import { getDisplayZone } from '../display-zone';
import {
  DEFAULT_FILTERS,
  hasSearch,
  mergeFresh,
  passesFilters,
  timeBounds,
  summaryOf,
  toMessageQuery,
  type HistoryFilters,
} from '../history/query';
import { startDownload } from '../history/save-file';
import { plural } from '../history/words';

export const HISTORY_PAGE_SIZE = 200;
/** Details kept for going back and forth between messages; raw bytes make them large. */
export const DETAIL_CACHE_SIZE = 30;
/**
 * Past this many rows live messages are counted instead of merged, so a view left open on a busy
 * gateway does not grow without bound.
 */
export const LIVE_MERGE_LIMIT = 500_000;

export type DetailTab = 'results' | 'parsed' | 'raw' | 'hex' | 'trace' | 'forwarding';
export type ExportFormat = 'csv' | 'json' | 'raw';

export type DetailEntry =
  | { state: 'loading' }
  | { state: 'ready'; detail: MessageDetail }
  | { state: 'failed'; error: CommandError };

/** What became of the last export, in words for the export control. */
export type ExportNote = { kind: 'done' | 'failed'; text: string };

export interface InstrumentChoice {
  id: string;
  name: string;
}

export interface HistoryState {
  /** The filters and search of the rows loaded (the search box may be ahead, see `searchText`). */
  filters: HistoryFilters;
  /** What the search box shows; applied to `filters.search` after a pause in typing. */
  searchText: string;
  /** Start of the time range, fixed when the query ran. */
  from: number | undefined;
  /** Exclusive; set only by a custom range. */
  to: number | undefined;
  items: MessageSummary[];
  nextCursor: string | null;
  loading: 'idle' | 'first' | 'more';
  error: CommandError | null;
  /** Bumped by every new query; answers to older ones are dropped. */
  generation: number;
  /** Live messages that may belong to the query but were not merged; shown as "N new". */
  newCount: number;
  /** Live messages that arrived while the first page was on its way. */
  arrivedWhileLoading: StoredMessageEvent[];
  selectedId: number | null;
  /** The message in the detail pane. */
  openId: number | null;
  tab: DetailTab;
  details: Record<number, DetailEntry>;
  /** Most recently used last. */
  detailOrder: number[];
  instruments: InstrumentChoice[];
  exporting: boolean;
  exportNote: ExportNote | null;
}

/** Message history: the query, the loaded pages, the selected message and its detail. */
export interface HistorySlice {
  history: HistoryState;
  historySetSearchText(text: string): void;
  /** Changes filters (search included) and runs the query again. */
  historySetFilters(change: Partial<HistoryFilters>): void;
  /** Runs the current query from the first page. */
  historyRefresh(): Promise<void>;
  /** Loads the page after the last loaded row, if there is one. */
  historyLoadMore(): Promise<void>;
  /** Live messages from the `messagesStored` event. */
  historyMessagesStored(messages: readonly StoredMessageEvent[]): void;
  historySelect(id: number | null): void;
  /** Shows a message in the detail pane, fetching it unless cached. */
  historyOpen(id: number): Promise<void>;
  historySetTab(tab: DetailTab): void;
  historyLoadInstruments(): Promise<void>;
  /**
   * Exports everything matching the current query: in a browser the download starts; on the
   * desktop the gateway has asked where to save it. `exportNote` then says what happened.
   */
  historyExport(format: ExportFormat): Promise<void>;
}

export const initialHistoryState = (): HistoryState => ({
  filters: DEFAULT_FILTERS,
  searchText: '',
  from: undefined,
  to: undefined,
  items: [],
  nextCursor: null,
  loading: 'idle',
  error: null,
  generation: 0,
  newCount: 0,
  arrivedWhileLoading: [],
  selectedId: null,
  openId: null,
  tab: 'results',
  details: {},
  detailOrder: [],
  instruments: [],
  exporting: false,
  exportNote: null,
});

const unexpected = (error: unknown): CommandError => ({
  code: 'UNEXPECTED',
  message: error instanceof Error ? error.message : String(error),
});

export const createHistorySlice: StateCreator<HistorySlice, [], [], HistorySlice> = (set, get) => {
  const update = (change: Partial<HistoryState>): void =>
    set((state) => ({ history: { ...state.history, ...change } }));

  const remember = (id: number, entry: DetailEntry): void =>
    set((state) => {
      const details = { ...state.history.details, [id]: entry };
      const detailOrder = state.history.detailOrder.filter((kept) => kept !== id);
      detailOrder.push(id);
      const open = state.history.openId;
      while (detailOrder.length > DETAIL_CACHE_SIZE) {
        const oldest = detailOrder.findIndex((kept) => kept !== open && kept !== id);
        if (oldest < 0) break;
        const [evicted] = detailOrder.splice(oldest, 1);
        delete details[evicted!];
      }
      return { history: { ...state.history, details, detailOrder } };
    });

  let instrumentsLoading = false;

  /** Whether a live message may appear in the list, given everything but the search. */
  const belongs = (history: HistoryState, message: StoredMessageEvent): boolean =>
    !message.duplicate && passesFilters(message, history.filters, history.from, history.to);

  /**
   * Under a search only the gateway can tell which new messages match: it is asked, for the
   * query as it stands, about the time the new ones arrived, and only those it returns count.
   */
  const countMatching = async (
    history: HistoryState,
    fresh: readonly StoredMessageEvent[],
  ): Promise<void> => {
    const ids = new Set(fresh.map((message) => message.id));
    const since = Math.min(...fresh.map((message) => message.receivedAt));
    const query = {
      ...toMessageQuery(history.filters, history.from, history.to),
      from: Math.max(since, history.from ?? since),
      order: 'asc' as const,
      limit: Math.min(500, Math.max(50, fresh.length * 4)),
    };
    let result: CommandResult<'queryMessages'>;
    try {
      result = await getApi().queryMessages(query);
    } catch {
      return;
    }
    if (!result.ok || get().history.generation !== history.generation) return;
    const matched = result.value.items.filter((item) => ids.has(item.id)).length;
    if (matched > 0) update({ newCount: get().history.newCount + matched });
  };

  return {
    history: initialHistoryState(),

    historySetSearchText: (text) => update({ searchText: text }),

    historySetFilters: (change) => {
      const filters = { ...get().history.filters, ...change };
      update({ filters, ...(change.search !== undefined ? { searchText: change.search } : {}) });
      void get().historyRefresh();
    },

    historyRefresh: async () => {
      const generation = get().history.generation + 1;
      const { from, to } = timeBounds(get().history.filters, Date.now(), getDisplayZone());
      update({
        generation,
        from,
        to,
        loading: 'first',
        error: null,
        newCount: 0,
        arrivedWhileLoading: [],
      });
      const query = {
        ...toMessageQuery(get().history.filters, from, to),
        limit: HISTORY_PAGE_SIZE,
      };
      let result: CommandResult<'queryMessages'>;
      try {
        result = await getApi().queryMessages(query);
      } catch (error) {
        result = { ok: false, error: unexpected(error) };
      }
      const history = get().history;
      if (history.generation !== generation) return;
      if (!result.ok) {
        update({ loading: 'idle', error: result.error, items: [], nextCursor: null });
        return;
      }
      let items = result.value.items;
      const early = history.arrivedWhileLoading.filter((message) => belongs(history, message));
      if (early.length > 0 && !hasSearch(history.filters)) {
        const mergeable = history.filters.order === 'desc' || result.value.nextCursor === null;
        if (mergeable) items = mergeFresh(items, early.map(summaryOf), history.filters.order);
      }
      const stillThere = items.some((item) => item.id === history.selectedId);
      update({
        loading: 'idle',
        items,
        nextCursor: result.value.nextCursor,
        arrivedWhileLoading: [],
        selectedId: stillThere ? history.selectedId : null,
      });
    },

    historyLoadMore: async () => {
      const { nextCursor, loading, generation, filters, from, to } = get().history;
      if (nextCursor === null || loading !== 'idle') return;
      update({ loading: 'more', error: null });
      const query = {
        ...toMessageQuery(filters, from, to),
        cursor: nextCursor,
        limit: HISTORY_PAGE_SIZE,
      };
      let result: CommandResult<'queryMessages'>;
      try {
        result = await getApi().queryMessages(query);
      } catch (error) {
        result = { ok: false, error: unexpected(error) };
      }
      const history = get().history;
      if (history.generation !== generation) return;
      if (!result.ok) {
        update({ loading: 'idle', error: result.error });
        return;
      }
      const loaded = new Set<number>();
      // Live rows merged meanwhile may reappear at a page boundary in ascending order.
      for (let i = history.items.length - 1; i >= 0 && loaded.size < HISTORY_PAGE_SIZE; i--) {
        loaded.add(history.items[i]!.id);
      }
      const page = result.value.items.filter((item) => !loaded.has(item.id));
      update({
        loading: 'idle',
        items: history.items.concat(page),
        nextCursor: result.value.nextCursor,
      });
    },

    historyMessagesStored: (messages) => {
      const history = get().history;
      const known = new Set(history.instruments.map((instrument) => instrument.id));
      if (history.instruments.length > 0 && messages.some((m) => !known.has(m.instrumentId))) {
        void get().historyLoadInstruments();
      }
      if (history.generation === 0) return;
      if (history.loading === 'first') {
        update({ arrivedWhileLoading: history.arrivedWhileLoading.concat(messages) });
        return;
      }
      const fitting = messages.filter((message) => belongs(history, message));
      if (fitting.length === 0) return;
      const { order } = history.filters;
      if (order === 'asc' && history.nextCursor !== null) return;
      if (hasSearch(history.filters)) {
        void countMatching(history, fitting);
        return;
      }
      if (history.items.length >= LIVE_MERGE_LIMIT) {
        update({ newCount: history.newCount + fitting.length });
        return;
      }
      update({ items: mergeFresh(history.items, fitting.map(summaryOf), order) });
    },

    historySelect: (id) => update({ selectedId: id }),

    historyOpen: async (id) => {
      update({ selectedId: id, openId: id });
      const cached = get().history.details[id];
      if (cached && cached.state !== 'failed') {
        remember(id, cached);
        return;
      }
      remember(id, { state: 'loading' });
      let result: CommandResult<'getMessage'>;
      try {
        result = await getApi().getMessage({ id });
      } catch (error) {
        result = { ok: false, error: unexpected(error) };
      }
      if (get().history.details[id]?.state !== 'loading') return;
      remember(
        id,
        result.ok
          ? { state: 'ready', detail: result.value }
          : { state: 'failed', error: result.error },
      );
    },

    historySetTab: (tab) => update({ tab }),

    historyLoadInstruments: async () => {
      if (instrumentsLoading) return;
      instrumentsLoading = true;
      let result: CommandResult<'listHistoryInstruments'>;
      try {
        result = await getApi().listHistoryInstruments({});
      } catch {
        return;
      } finally {
        instrumentsLoading = false;
      }
      // The list only names instruments in filters and rows; without it IDs are shown instead.
      if (!result.ok) return;
      const instruments = result.value
        .map((instrument) => ({
          id: instrument.id,
          name: instrument.removed ? `${instrument.name} (removed)` : instrument.name,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      update({ instruments });
    },

    historyExport: async (format) => {
      const { filters, from, to } = get().history;
      update({ exporting: true, exportNote: null });
      let result: CommandResult<'exportMessages'>;
      try {
        result = await getApi().exportMessages({
          query: toMessageQuery(filters, from, to),
          format,
        });
      } catch (error) {
        result = { ok: false, error: unexpected(error) };
      }
      update({ exporting: false, exportNote: deliver(result) });
    },
  };
};

/** Starts the download a browser is offered, and says what became of the export. */
function deliver(result: CommandResult<'exportMessages'>): ExportNote {
  if (!result.ok) return { kind: 'failed', text: `Export failed: ${result.error.message}` };
  const { fileName, count, savedTo, downloadUrl } = result.value;
  if (downloadUrl !== null) {
    try {
      startDownload(downloadUrl, fileName);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { kind: 'failed', text: `Could not start the download: ${reason}` };
    }
    return { kind: 'done', text: `Downloading ${fileName}` };
  }
  if (savedTo !== null) {
    return { kind: 'done', text: `Saved ${plural(count ?? 0, 'message')} to ${savedTo}` };
  }
  return { kind: 'done', text: 'Export cancelled' };
}
