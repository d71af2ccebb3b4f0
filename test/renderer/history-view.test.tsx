// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
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
import { setDisplayZone } from '../../src-renderer/display-zone';
import { HistoryView } from '../../src-renderer/history/HistoryView';
import { createHistorySlice, type HistorySlice } from '../../src-renderer/store/history-slice';

const b64 = (text: string) => btoa(text);

function summary(id: number, change: Partial<MessageSummary> = {}): MessageSummary {
  return {
    id,
    instrumentId: 'c1',
    protocol: 'astm',
    direction: 'in',
    receivedAt: Date.now() - 1_000_000 + id,
    controlId: null,
    sampleIds: [`S${id}`],
    patientIds: [`P${id}`],
    testCodes: ['GLU'],
    status: 'stored',
    ack: 'ACK',
    resultCount: 1,
    errorCount: 0,
    qc: false,
    preview: '',
    size: 64,
    ...change,
  };
}

const FRAME =
  '\x021H|\\^&|||Analyzer^1\rP|1||PAT7\rO|1|S123\rR|1|^^^GLU|5.4|mmol/L||H||F\rL|1|N\r\x03A1\r\n';

function detail(id: number): MessageDetail {
  return {
    ...summary(id, { sampleIds: ['S123'], patientIds: ['PAT7'], errorCount: 1 }),
    text: 'H|\\^&|||Analyzer^1\rP|1||PAT7\rO|1|S123\rR|1|^^^GLU|5.4|mmol/L||H||F\rL|1|N\r',
    raw: b64(`\x05${FRAME}\x04`),
    profile: null,
    results: [
      {
        sampleId: 'S123',
        patientId: 'PAT7',
        testCode: 'GLU',
        value: '5.4',
        units: 'mmol/L',
        flags: 'H',
        status: 'F',
        observedAt: '2025-03-14T10:02:00',
        qc: false,
        sources: [],
        lis: { testCode: 'GLU', name: null, units: 'mmol/L', mapped: false, excluded: false },
      },
    ],
    errors: [{ code: 'ASTM_BAD_CHECKSUM', message: 'frame 1: checksum expected 3A, got 3B' }],
    parsed: [
      {
        name: 'R',
        text: 'R|1|^^^GLU|5.4|mmol/L||H||F',
        fields: [
          { position: 'R-1', value: '1' },
          { position: 'R-3', value: '^^^GLU', components: ['', '', '', 'GLU'] },
          { position: 'R-4', value: '5.4' },
          { position: 'R-5', value: 'mmol/L' },
          { position: 'R-6', value: '' },
          { position: 'R-7', value: 'H' },
        ],
      },
    ],
    trace: [
      { at: 5000, direction: 'in', connectionId: 'k1', bytes: b64('\x05') },
      { at: 5003, direction: 'out', connectionId: 'k1', bytes: b64('\x06') },
      { at: 5010, direction: 'in', connectionId: 'k1', bytes: b64(FRAME.replace('A1', '3B')) },
      { at: 5012, direction: 'out', connectionId: 'k1', bytes: b64('\x15') },
      { at: 5020, direction: 'in', connectionId: 'k1', bytes: b64(FRAME) },
      { at: 5021, direction: 'out', connectionId: 'k1', bytes: b64('\x06') },
      { at: 5030, direction: 'in', connectionId: 'k1', bytes: b64('\x04') },
    ],
  };
}

type Query = CommandRequest<'queryMessages'>;
type Page = CommandResult<'queryMessages'>;

function fakeApi(queryMessages: (query: Query) => Page = () => page([summary(2), summary(1)])) {
  const api = {
    queryMessages: vi.fn(async (query: Query) => queryMessages(query)),
    getMessage: vi.fn(
      async ({ id }: CommandRequest<'getMessage'>): Promise<CommandResult<'getMessage'>> => ({
        ok: true,
        value: detail(id),
      }),
    ),
    exportMessages: vi.fn(async (): Promise<CommandResult<'exportMessages'>> => ({
      ok: true,
      value: {
        fileName: 'history.json',
        count: null,
        savedTo: null,
        downloadUrl: '/export/Zm9vYmFy',
      },
    })),
    listInstruments: vi.fn(async () => ({ ok: true as const, value: [] })),
  };
  setApi(api as unknown as GatewayApi);
  return api;
}

function page(items: MessageSummary[], nextCursor: string | null = null): Page {
  return { ok: true, value: { items, nextCursor } };
}

function renderView(store = create<HistorySlice>()(createHistorySlice)) {
  render(<HistoryView store={store} />);
  return store;
}

const listbox = () => screen.getByRole('listbox', { name: 'Messages' });
/** Rows of the message list (the filter selects have options too). */
const rows = () => within(listbox()).getAllByRole('option');
const findRows = async () => within(await screen.findByRole('listbox')).findAllByRole('option');
const topOf = (row: HTMLElement) => Number.parseFloat(row.style.top);
const selectedRow = () => within(listbox()).queryByRole('option', { selected: true });

async function openFirstMessage() {
  await findRows();
  fireEvent.keyDown(listbox(), { key: 'ArrowDown' });
  fireEvent.keyDown(listbox(), { key: 'Enter' });
  await screen.findByRole('heading', { name: /Message 2/ });
}

/**
 * jsdom lays nothing out; the list's virtualizer reads its scroll range from the element, as in a
 * browser. Give the scroller the box a browser would: 480 px high, as tall inside as its content.
 */
function layOutScrollers() {
  const scroller = (element: HTMLElement) => element.classList.contains('windowed-list');
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockImplementation(function (
    this: HTMLElement,
  ) {
    return scroller(this) ? 480 : 0;
  });
  vi.spyOn(HTMLElement.prototype, 'scrollHeight', 'get').mockImplementation(function (
    this: HTMLElement,
  ) {
    const content = this.firstElementChild as HTMLElement | null;
    return scroller(this) ? Number.parseFloat(content?.style.height ?? '') || 0 : 0;
  });
}

beforeEach(() => {
  setApi(null);
  layOutScrollers();
});
afterEach(() => {
  cleanup();
  setApi(null);
  vi.restoreAllMocks();
});

describe('HistoryView', () => {
  it('searches after a pause in typing and shows the rows found', async () => {
    const api = fakeApi((query) =>
      page(query.search === 'S123' ? [summary(7, { sampleIds: ['S123'] })] : []),
    );
    renderView();
    const box = screen.getByRole('searchbox', { name: 'Search messages' });
    for (const text of ['S', 'S1', 'S12', 'S123'])
      fireEvent.change(box, { target: { value: text } });
    const searches = () => api.queryMessages.mock.calls.filter(([query]) => query.search);
    expect(searches()).toHaveLength(0);
    await waitFor(() => expect(searches()).toHaveLength(1));
    expect(searches()[0]![0]).toMatchObject({ search: 'S123', limit: 200 });
    const row = await within(listbox()).findByRole('option', { name: /sample S123/ });
    expect(row.textContent).toContain('S123');
    expect(within(row).getByText('Stored')).toBeTruthy();
  });

  it('asks for a custom range in the gateway’s time zone and says which zone', async () => {
    setDisplayZone('America/New_York');
    try {
      const api = fakeApi();
      renderView();
      await findRows().catch(() => undefined);
      fireEvent.change(screen.getByLabelText('Time'), { target: { value: 'custom' } });
      const group = screen.getByRole('group', { name: 'Custom time range' });
      expect(group.textContent).toContain('America/New_York');
      fireEvent.change(within(group).getByLabelText('From'), {
        target: { value: '2025-03-14T08:00' },
      });
      fireEvent.change(within(group).getByLabelText('To'), {
        target: { value: '2025-03-14T09:59' },
      });
      // New York is UTC-4 from 9 March 2025; “to” takes in its whole minute.
      await waitFor(() =>
        expect(api.queryMessages.mock.lastCall![0]).toMatchObject({
          from: Date.UTC(2025, 2, 14, 12, 0),
          to: Date.UTC(2025, 2, 14, 14, 0),
        }),
      );
      fireEvent.change(within(group).getByLabelText('From'), {
        target: { value: '2025-03-14T11:00' },
      });
      expect(group.textContent).toContain('The start is after the end');
      expect(within(group).getByLabelText('From').getAttribute('aria-invalid')).toBe('true');
    } finally {
      setDisplayZone(undefined);
    }
  });

  it('renders only a window of rows out of 100,000', () => {
    fakeApi();
    const store = create<HistorySlice>()(createHistorySlice);
    const items = Array.from({ length: 100_000 }, (_, i) => summary(100_000 - i));
    store.setState((state) => ({ history: { ...state.history, generation: 1, items } }));
    renderView(store);
    expect(rows().length).toBeLessThan(60);
    expect(screen.getByText('100,000 messages, all loaded')).toBeTruthy();

    const list = listbox();
    list.scrollTop = 50_000 * 32;
    fireEvent.scroll(list);
    const options = rows();
    expect(options.length).toBeLessThan(60);
    expect(options.map((option) => option.getAttribute('aria-posinset'))).toContain('50001');
  });

  it(
    'renders only a window of rows out of 1,000,000 and reaches the last one',
    { timeout: 60_000 },
    () => {
      fakeApi();
      const store = create<HistorySlice>()(createHistorySlice);
      // One shared row body keeps a million rows cheap to build; only the ids differ.
      const body = summary(0);
      const items = Array.from({ length: 1_000_000 }, (_, i) => ({ ...body, id: 1_000_000 - i }));
      store.setState((state) => ({ history: { ...state.history, generation: 1, items } }));
      renderView(store);
      const list = listbox();
      // 32,000,000 px of rows: more than a browser lets an element be, so the scroll area is capped.
      expect(list.scrollHeight).toBeCloseTo(15_000_000, 2);
      expect(rows().length).toBeLessThan(60);

      const rowAt = (position: number) =>
        rows().find((row) => row.getAttribute('aria-posinset') === String(position));
      list.scrollTop = list.scrollHeight - 480;
      fireEvent.scroll(list);
      expect(rows().length).toBeLessThan(60);
      // The last row sits at the bottom of the viewport.
      expect(topOf(rowAt(1_000_000)!)).toBeCloseTo(480 - 32, 2);

      list.scrollTop = list.scrollHeight / 2;
      fireEvent.scroll(list);
      const middle = rows().map((row) => Number(row.getAttribute('aria-posinset')));
      expect(Math.min(...middle)).toBeGreaterThan(499_000);
      expect(Math.max(...middle)).toBeLessThan(501_000);

      // Inside one window of rows, a few pixels still move every row.
      const watched = middle[10]!;
      const before = topOf(rowAt(watched)!);
      list.scrollTop += 3;
      fireEvent.scroll(list);
      expect(topOf(rowAt(watched)!)).toBeLessThan(before - 3);

      list.focus();
      fireEvent.keyDown(list, { key: 'Home' });
      fireEvent.scroll(list);
      expect(list.scrollTop).toBe(0);
      fireEvent.keyDown(list, { key: 'End' });
      fireEvent.scroll(list);
      expect(list.scrollTop).toBe(list.scrollHeight - 480);
      expect(selectedRow()!.getAttribute('aria-posinset')).toBe('1000000');
      expect(topOf(selectedRow()!)).toBeCloseTo(480 - 32, 2);
    },
  );

  it('loads the next page with the cursor when scrolled near the end', async () => {
    const first = Array.from({ length: 200 }, (_, i) => summary(400 - i));
    const second = Array.from({ length: 200 }, (_, i) => summary(200 - i));
    const api = fakeApi((query) =>
      query.cursor === 'page-2' ? page(second) : page(first, 'page-2'),
    );
    renderView();
    await screen.findByText('200 messages loaded, more available');
    expect(api.queryMessages).toHaveBeenCalledTimes(1);

    const list = listbox();
    list.scrollTop = 200 * 32 - 480;
    fireEvent.scroll(list);
    await screen.findByText('400 messages, all loaded');
    expect(api.queryMessages).toHaveBeenLastCalledWith(
      expect.objectContaining({ cursor: 'page-2', limit: 200 }),
    );
  });

  it('moves the selection with the arrow keys and opens it with Enter', async () => {
    const api = fakeApi();
    renderView();
    await findRows();
    const list = listbox();
    fireEvent.keyDown(list, { key: 'ArrowDown' });
    fireEvent.keyDown(list, { key: 'ArrowDown' });
    fireEvent.keyDown(list, { key: 'ArrowUp' });
    const selected = selectedRow()!;
    expect(selected.getAttribute('aria-label')).toContain('sample S2');
    expect(list.getAttribute('aria-activedescendant')).toBe(selected.id);
    expect(api.getMessage).not.toHaveBeenCalled();

    fireEvent.keyDown(list, { key: 'Enter' });
    await screen.findByRole('heading', { name: /Message 2/ });
    expect(api.getMessage).toHaveBeenCalledWith({ id: 2 });
    expect(screen.getByText('Acknowledged (ACK)')).toBeTruthy();

    fireEvent.keyDown(list, { key: 'Escape' });
    expect(selectedRow()).toBeNull();
    expect(list.hasAttribute('aria-activedescendant')).toBe(false);
  });

  it('keeps the selected row in view as it moves', async () => {
    fakeApi(() => page(Array.from({ length: 150 }, (_, i) => summary(150 - i))));
    renderView();
    await findRows();
    const list = listbox();
    fireEvent.keyDown(list, { key: 'End' });
    expect(list.scrollTop).toBe(150 * 32 - 480);
    expect(selectedRow()!.getAttribute('aria-posinset')).toBe('150');
    fireEvent.keyDown(list, { key: 'Home' });
    expect(list.scrollTop).toBe(0);
  });

  it('keeps the selected row in the list while it is scrolled out of view', async () => {
    fakeApi(() => page(Array.from({ length: 1000 }, (_, i) => summary(1000 - i))));
    renderView();
    await findRows();
    const list = listbox();
    fireEvent.keyDown(list, { key: 'ArrowDown' });
    const selected = list.getAttribute('aria-activedescendant')!;
    list.scrollTop = 600 * 32;
    fireEvent.scroll(list);
    expect(rows().some((row) => row.getAttribute('aria-posinset') === '601')).toBe(true);
    expect(document.getElementById(selected)?.getAttribute('aria-selected')).toBe('true');
  });

  it('starts a new search at the top of the list', async () => {
    fakeApi((query) =>
      page(Array.from({ length: query.search ? 300 : 500 }, (_, i) => summary(1000 - i))),
    );
    renderView();
    await findRows();
    const list = listbox();
    list.scrollTop = 250 * 32;
    fireEvent.scroll(list);
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search messages' }), {
      target: { value: 'GLU' },
    });
    await screen.findByText('300 messages, all loaded');
    expect(list.scrollTop).toBe(0);
  });

  it('focuses the search box on / and leaves it on Escape', async () => {
    fakeApi();
    renderView();
    await findRows();
    const list = listbox();
    list.focus();
    fireEvent.keyDown(list, { key: '/' });
    const box = screen.getByRole('searchbox', { name: 'Search messages' });
    expect(document.activeElement).toBe(box);

    fireEvent.keyDown(box, { key: '/' });
    expect(document.activeElement).toBe(box);
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(document.activeElement).toBe(list);
  });

  it('shows results, parsed fields, raw symbols, hex and the trace in tabs', async () => {
    fakeApi();
    renderView();
    await openFirstMessage();

    expect(screen.getByRole('tab', { name: 'Results' }).getAttribute('aria-selected')).toBe('true');
    const table = screen.getByRole('table', { name: /Results of message 2/ });
    const cells = within(table)
      .getAllByRole('cell')
      .map((cell) => cell.textContent);
    expect(cells).toEqual([
      'GLU',
      'GLU (as sent)',
      '5.4',
      'mmol/L',
      '',
      '⚠ H (abnormal)',
      'F',
      '2025-03-14 10:02:00',
      'S123',
      'PAT7',
    ]);
    expect(screen.getAllByText('frame 1: checksum expected 3A, got 3B').length).toBeGreaterThan(0);

    fireEvent.click(screen.getByRole('tab', { name: 'Raw' }));
    const raw = screen.getByRole('tabpanel').textContent ?? '';
    // One frame per line: the checksum and CR LF end the frame's line, ENQ and EOT stand alone.
    expect(raw).toContain(
      '␅\n␂1H|\\^&|||Analyzer^1␍P|1||PAT7␍O|1|S123␍R|1|^^^GLU|5.4|mmol/L||H||F␍L|1|N␍␃A1␍␊\n␄\n',
    );
    expect(raw).toContain('exactly as received, framing included');
    expect(raw).toContain('Read as Latin-1');

    const rawTab = screen.getByRole('tab', { name: 'Raw' });
    rawTab.focus();
    fireEvent.keyDown(rawTab, { key: 'ArrowRight' });
    const hexTab = screen.getByRole('tab', { name: 'Hex' });
    expect(hexTab.getAttribute('aria-selected')).toBe('true');
    expect(document.activeElement).toBe(hexTab);
    const hex = screen.getByRole('tabpanel').textContent ?? '';
    expect(hex).toContain(
      '00000000  05 02 31 48 7C 5C 5E 26  7C 7C 7C 41 6E 61 6C 79  ..1H|\\^&|||Analy',
    );

    fireEvent.click(screen.getByRole('tab', { name: 'Parsed' }));
    expect(screen.getByText('R-4')).toBeTruthy();
    expect(screen.getByText('R-3.4')).toBeTruthy();
    expect(screen.queryByText('R-6')).toBeNull();
    fireEvent.click(screen.getByRole('checkbox', { name: 'Show empty fields' }));
    expect(screen.getByText('R-6')).toBeTruthy();
    const segment = screen.getByRole('button', { expanded: true });
    fireEvent.click(segment);
    expect(screen.queryByText('R-4')).toBeNull();

    fireEvent.click(screen.getByRole('tab', { name: 'Trace' }));
    const trace = within(screen.getByRole('table', { name: 'Exchange on the wire' })).getAllByRole(
      'row',
    );
    expect(trace).toHaveLength(8);
    expect(trace[1]!.textContent).toBe('+0 msanalyzer → gateway␅request to send (ENQ)');
    expect(trace[2]!.textContent).toContain('gateway → analyzer');
    expect(trace[4]!.textContent).toBe('+12 msgateway → analyzer␕refused (NAK)');
    expect(trace[4]!.className).toContain('history-refused');
    expect(trace[7]!.textContent).toContain('end of transmission (EOT)');
  });

  it('exports the current query in the chosen format and downloads the file', async () => {
    const api = fakeApi();
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push(this);
    });
    renderView();
    fireEvent.change(screen.getByRole('combobox', { name: 'Status' }), {
      target: { value: 'error' },
    });
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search messages' }), {
      target: { value: 'S9' },
    });
    fireEvent.change(screen.getByRole('combobox', { name: 'Export as' }), {
      target: { value: 'json' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Export' }));

    await screen.findByText('Downloading history.json');
    expect(api.exportMessages).toHaveBeenCalledWith({
      query: { order: 'desc', status: 'error', search: 'S9' },
      format: 'json',
    });
    expect(clicked).toHaveLength(1);
    expect(clicked[0]!.download).toBe('history.json');
    expect(clicked[0]!.getAttribute('href')).toBe('/export/Zm9vYmFy');
    expect(screen.getByRole('button', { name: 'Export' })).toHaveProperty('disabled', false);
  });

  it('tells where the desktop saved the export, or why it failed', async () => {
    const api = fakeApi();
    api.exportMessages.mockResolvedValueOnce({
      ok: true,
      value: { fileName: 'r.csv', count: 3, savedTo: '/home/lab/r.csv', downloadUrl: null },
    });
    renderView();
    fireEvent.click(screen.getByRole('button', { name: 'Export' }));
    const note = await screen.findByText('Saved 3 messages to /home/lab/r.csv');
    expect(note.getAttribute('role')).toBe('status');
    expect(note.className).toBe('history-note');

    api.exportMessages.mockResolvedValueOnce({
      ok: false,
      error: {
        code: 'EXPORT_WRITE_FAILED',
        message: 'could not write the export to /mnt/usb/r.csv: the disk is full (ENOSPC)',
      },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Export' }));
    const failed = await screen.findByText(
      'Export failed: could not write the export to /mnt/usb/r.csv: the disk is full (ENOSPC)',
    );
    expect(failed.className).toBe('history-problem');
  });

  it('puts live messages at the top, or offers them when a search is active', async () => {
    const matching = [summary(1)];
    fakeApi((query) => page(query.search ? matching : [summary(2), summary(1)]));
    const store = renderView();
    await findRows();
    const live: StoredMessageEvent = {
      ...summary(3, { sampleIds: ['LIVE1'] }),
      duplicate: false,
    };
    act(() => store.getState().historyMessagesStored([live]));
    expect(rows()[0]!.getAttribute('aria-label')).toContain('sample LIVE1');
    // At the very top the new row is shown, not scrolled past.
    expect(listbox().scrollTop).toBe(0);

    fireEvent.change(screen.getByRole('searchbox', { name: 'Search messages' }), {
      target: { value: 'S1' },
    });
    await screen.findByText('1 message, all loaded');
    // A message that does not match the search is not announced…
    await act(async () => store.getState().historyMessagesStored([{ ...live, id: 4 }]));
    expect(screen.queryByText(/new message/u)).toBeNull();
    // …one the gateway finds for it is.
    matching.push(summary(5));
    await act(async () => store.getState().historyMessagesStored([{ ...live, id: 5 }]));
    expect(await screen.findByText('1 new message arrived')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Show' }));
    await waitFor(() => expect(screen.queryByText('1 new message arrived')).toBeNull());
  });

  it('holds the rows being read in place when live messages arrive above them', async () => {
    fakeApi(() => page(Array.from({ length: 300 }, (_, i) => summary(1000 - i))));
    const store = renderView();
    await findRows();
    const list = listbox();
    list.scrollTop = 100 * 32;
    fireEvent.scroll(list);
    const live = [1001, 1002].map((id) => ({ ...summary(id), duplicate: false }));
    act(() => store.getState().historyMessagesStored(live));
    expect(list.scrollTop).toBe(102 * 32);
    expect(rows().some((row) => row.getAttribute('aria-label')?.includes('sample S900'))).toBe(
      true,
    );
  });
});
