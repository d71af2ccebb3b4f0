// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { create } from 'zustand';
import type {
  CommandRequest,
  CommandResult,
  GatewayApi,
  MessageDetail,
  StoredMessageEvent,
} from '../../src-shared/contract';
import type { MessageSummary } from '../../src-shared/status';
import { setApi } from '../../src-renderer/api';
import {
  createHistorySlice,
  HISTORY_PAGE_SIZE,
  type HistorySlice,
} from '../../src-renderer/store/history-slice';

function summary(id: number, change: Partial<MessageSummary> = {}): MessageSummary {
  return {
    id,
    instrumentId: 'c1',
    protocol: 'astm',
    direction: 'in',
    receivedAt: 1_000_000 + id * 1000,
    controlId: null,
    sampleIds: [`S${id}`],
    patientIds: [],
    testCodes: [],
    status: 'stored',
    ack: 'ACK',
    resultCount: 1,
    errorCount: 0,
    qc: false,
    preview: '',
    size: 10,
    ...change,
  };
}

function stored(id: number, change: Partial<StoredMessageEvent> = {}): StoredMessageEvent {
  const { testCodes: _t, preview: _p, size: _s, ...fields } = summary(id);
  return { ...fields, duplicate: false, ...change };
}

function detail(id: number): MessageDetail {
  return {
    ...summary(id),
    text: '',
    raw: '',
    profile: null,
    results: [],
    errors: [],
    parsed: [],
    trace: [],
  };
}

type Handler<C extends keyof GatewayApi> = GatewayApi[C];

function fakeApi(handlers: {
  queryMessages?: Handler<'queryMessages'>;
  getMessage?: Handler<'getMessage'>;
  exportMessages?: Handler<'exportMessages'>;
}) {
  const api = {
    queryMessages: vi.fn<Handler<'queryMessages'>>(
      handlers.queryMessages ??
        (async () => ({ ok: true, value: { items: [], nextCursor: null } }) as const),
    ),
    getMessage: vi.fn<Handler<'getMessage'>>(
      handlers.getMessage ??
        (async ({ id }: CommandRequest<'getMessage'>) =>
          ({ ok: true, value: detail(id) }) as const),
    ),
    exportMessages: vi.fn<Handler<'exportMessages'>>(
      handlers.exportMessages ??
        (async () =>
          ({
            ok: true,
            value: { fileName: 'x.csv', count: null, savedTo: null, downloadUrl: null },
          }) as const),
    ),
    listInstruments: vi.fn(async () => ({ ok: true, value: [] }) as const),
  };
  setApi(api as unknown as GatewayApi);
  return api;
}

const newStore = () => create<HistorySlice>()(createHistorySlice);

/** A promise and the function that settles it, to hold a response back. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

beforeEach(() => setApi(null));
afterEach(() => {
  setApi(null);
  vi.restoreAllMocks();
});

/** Links the page clicked to start a download (jsdom does not navigate). */
function clickedLinks(): HTMLAnchorElement[] {
  const clicked: HTMLAnchorElement[] = [];
  vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
    this: HTMLAnchorElement,
  ) {
    clicked.push(this);
  });
  return clicked;
}

type ExportAnswer = CommandResult<'exportMessages'>;
const exported =
  (value: Partial<(ExportAnswer & { ok: true })['value']>) => async (): Promise<ExportAnswer> => ({
    ok: true,
    value: { fileName: 'results.csv', count: null, savedTo: null, downloadUrl: null, ...value },
  });

describe('history slice', () => {
  it('loads the first page for the filters, then the next one with the cursor', async () => {
    const api = fakeApi({
      queryMessages: async (query) =>
        query.cursor
          ? { ok: true, value: { items: [summary(1)], nextCursor: null } }
          : { ok: true, value: { items: [summary(3), summary(2)], nextCursor: 'after-2' } },
    });
    const store = newStore();
    store.getState().historySetFilters({ protocol: 'astm', direction: 'in' });
    await vi.waitFor(() => expect(store.getState().history.loading).toBe('idle'));
    expect(api.queryMessages).toHaveBeenLastCalledWith({
      order: 'desc',
      protocol: 'astm',
      direction: 'in',
      limit: HISTORY_PAGE_SIZE,
    });
    expect(store.getState().history.nextCursor).toBe('after-2');

    await store.getState().historyLoadMore();
    expect(api.queryMessages).toHaveBeenLastCalledWith({
      order: 'desc',
      protocol: 'astm',
      direction: 'in',
      cursor: 'after-2',
      limit: HISTORY_PAGE_SIZE,
    });
    expect(store.getState().history.items.map((item) => item.id)).toEqual([3, 2, 1]);
    expect(store.getState().history.nextCursor).toBeNull();
  });

  it('drops the answer to a query that was replaced', async () => {
    const slow = deferred<CommandResult<'queryMessages'>>();
    fakeApi({
      queryMessages: (query) =>
        query.search === 'old'
          ? slow.promise
          : Promise.resolve({ ok: true, value: { items: [summary(9)], nextCursor: null } }),
    });
    const store = newStore();
    store.getState().historySetFilters({ search: 'old' });
    store.getState().historySetFilters({ search: 'new' });
    await vi.waitFor(() => expect(store.getState().history.items).toHaveLength(1));
    slow.resolve({ ok: true, value: { items: [summary(1), summary(2)], nextCursor: 'x' } });
    await slow.promise;
    await Promise.resolve();
    expect(store.getState().history.items.map((item) => item.id)).toEqual([9]);
    expect(store.getState().history.filters.search).toBe('new');
  });

  it('keeps the error in plain words', async () => {
    fakeApi({
      queryMessages: async () => ({
        ok: false,
        error: { code: 'STORE_BUSY', message: 'the database is busy' },
      }),
    });
    const store = newStore();
    await store.getState().historyRefresh();
    expect(store.getState().history.error?.message).toBe('the database is busy');
    expect(store.getState().history.loading).toBe('idle');
  });

  it('fixes the start of the time range when the query runs', async () => {
    vi.useFakeTimers({ now: new Date(2025, 2, 14, 15, 0), toFake: ['Date'] });
    try {
      const api = fakeApi({});
      const store = newStore();
      store.getState().historySetFilters({ range: 'hour' });
      const expected = new Date(2025, 2, 14, 14, 0).getTime();
      expect(store.getState().history.from).toBe(expected);
      expect(api.queryMessages.mock.calls[0]![0].from).toBe(expected);
    } finally {
      vi.useRealTimers();
    }
  });

  describe('live messages', () => {
    async function loaded(items: MessageSummary[], change = {}) {
      fakeApi({ queryMessages: async () => ({ ok: true, value: { items, nextCursor: 'more' } }) });
      const store = newStore();
      store.getState().historySetFilters(change);
      await vi.waitFor(() => expect(store.getState().history.loading).toBe('idle'));
      return store;
    }

    it('appear at the top when no filter excludes them', async () => {
      const store = await loaded([summary(2), summary(1)]);
      store.getState().historyMessagesStored([stored(3), stored(4)]);
      expect(store.getState().history.items.map((item) => item.id)).toEqual([4, 3, 2, 1]);
      expect(store.getState().history.newCount).toBe(0);
    });

    it('are left out when a filter excludes them, and duplicates never count', async () => {
      const store = await loaded([summary(1)], { instrumentId: 'c1' });
      store
        .getState()
        .historyMessagesStored([stored(3, { instrumentId: 'c2' }), stored(1, { duplicate: true })]);
      expect(store.getState().history.items.map((item) => item.id)).toEqual([1]);
      expect(store.getState().history.newCount).toBe(0);
    });

    it('are counted, not merged, under a search, and only those the gateway says match', async () => {
      const queries: CommandRequest<'queryMessages'>[] = [];
      fakeApi({
        queryMessages: async (query) => {
          queries.push(query);
          // The first call is the list; later ones ask which new messages match "S1".
          const items = queries.length === 1 ? [summary(1)] : [summary(6)];
          return { ok: true, value: { items, nextCursor: null } };
        },
      });
      const store = newStore();
      store.getState().historySetFilters({ search: 'S1' });
      await vi.waitFor(() => expect(store.getState().history.loading).toBe('idle'));
      store.getState().historyMessagesStored([stored(5), stored(6)]);
      await vi.waitFor(() => expect(store.getState().history.newCount).toBe(1));
      expect(store.getState().history.items.map((item) => item.id)).toEqual([1]);
      expect(queries[1]).toMatchObject({ search: 'S1', order: 'asc' });
    });

    it('arriving during the first load are merged when it lands', async () => {
      const page = deferred<CommandResult<'queryMessages'>>();
      fakeApi({ queryMessages: () => page.promise });
      const store = newStore();
      const refreshed = store.getState().historyRefresh();
      store.getState().historyMessagesStored([stored(7), stored(6)]);
      page.resolve({ ok: true, value: { items: [summary(6), summary(5)], nextCursor: null } });
      await refreshed;
      expect(store.getState().history.items.map((item) => item.id)).toEqual([7, 6, 5]);
    });
  });

  it('caches details and fetches a failed one again', async () => {
    let fail = true;
    const api = fakeApi({
      getMessage: async ({ id }) =>
        fail
          ? { ok: false, error: { code: 'NOT_FOUND', message: 'no such message' } }
          : { ok: true, value: detail(id) },
    });
    const store = newStore();
    await store.getState().historyOpen(4);
    expect(store.getState().history.details[4]).toMatchObject({ state: 'failed' });
    fail = false;
    await store.getState().historyOpen(4);
    await store.getState().historyOpen(4);
    expect(api.getMessage).toHaveBeenCalledTimes(2);
    expect(store.getState().history).toMatchObject({ openId: 4, selectedId: 4 });
    expect(store.getState().history.details[4]).toMatchObject({ state: 'ready' });
  });

  it('keeps a bounded number of details, never evicting the open one', async () => {
    fakeApi({});
    const store = newStore();
    for (let id = 1; id <= 40; id++) await store.getState().historyOpen(id);
    const cached = Object.keys(store.getState().history.details).map(Number);
    expect(cached.length).toBeLessThanOrEqual(30);
    expect(cached).toContain(40);
    expect(cached).not.toContain(1);
  });

  it('exports the current query in the chosen format', async () => {
    const answer = deferred<ExportAnswer>();
    const api = fakeApi({ exportMessages: () => answer.promise });
    const store = newStore();
    store.getState().historySetFilters({ search: 'S42', status: 'error' });
    const done = store.getState().historyExport('json');
    expect(store.getState().history.exporting).toBe(true);
    expect(api.exportMessages).toHaveBeenCalledWith({
      query: { order: 'desc', status: 'error', search: 'S42' },
      format: 'json',
    });
    answer.resolve({ ok: false, error: { code: 'EXPORT_READ_FAILED', message: 'disk I/O error' } });
    await done;
    expect(store.getState().history.exporting).toBe(false);
    expect(store.getState().history.exportNote).toEqual({
      kind: 'failed',
      text: 'Export failed: disk I/O error',
    });
  });

  it('in a browser, starts the download of the address the gateway gives', async () => {
    fakeApi({ exportMessages: exported({ downloadUrl: '/export/abc123' }) });
    const clicked = clickedLinks();
    const store = newStore();
    await store.getState().historyExport('csv');
    expect(clicked).toHaveLength(1);
    expect(clicked[0]!.getAttribute('href')).toBe('/export/abc123');
    expect(clicked[0]!.download).toBe('results.csv');
    expect(clicked[0]!.isConnected).toBe(false);
    expect(store.getState().history.exportNote).toEqual({
      kind: 'done',
      text: 'Downloading results.csv',
    });
  });

  it('on the desktop, says where the file was saved and how many messages it holds', async () => {
    fakeApi({
      exportMessages: exported({ count: 1_204, savedTo: '/home/lab/Downloads/results.csv' }),
    });
    const clicked = clickedLinks();
    const store = newStore();
    await store.getState().historyExport('csv');
    expect(clicked).toHaveLength(0);
    expect(store.getState().history.exportNote).toEqual({
      kind: 'done',
      text: 'Saved 1,204 messages to /home/lab/Downloads/results.csv',
    });
  });

  it('says the export was cancelled when the save dialog was', async () => {
    fakeApi({ exportMessages: exported({}) });
    const clicked = clickedLinks();
    const store = newStore();
    await store.getState().historyExport('raw');
    expect(clicked).toHaveLength(0);
    expect(store.getState().history.exportNote).toEqual({ kind: 'done', text: 'Export cancelled' });
  });
});
