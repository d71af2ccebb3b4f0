import type { CommandResponse } from '../../src-shared/contract';
import { getApi } from '../api';
import type { SliceCreator } from './app-state';
import { setDisplayZone } from '../display-zone';
import { call } from './call';

export const pages = ['dashboard', 'history', 'orders', 'events', 'instruments'] as const;
export type Page = (typeof pages)[number];

export const pageTitles: Record<Page, string> = {
  dashboard: 'Dashboard',
  history: 'History',
  orders: 'Orders',
  events: 'Event log',
  instruments: 'Instruments',
};

/** What the instrument editor shows: a blank form, one instrument, or nothing chosen yet. */
export type EditorSelection = { kind: 'new' } | { kind: 'edit'; id: string } | null;

export type AppInfo = CommandResponse<'getAppInfo'>;

export interface UiSlice {
  ui: {
    page: Page;
    editor: EditorSelection;
    appInfo: AppInfo | null;
    /** False while the page has lost its connection to the gateway and is reconnecting. */
    connected: boolean;
    /** When the connection was lost (null while connected): statuses are only known up to then. */
    lostAt: number | null;
  };
  setPage(page: Page): void;
  setConnected(connected: boolean): void;
  /** Shows the instrument editor with this selection. */
  openEditor(selection: EditorSelection): void;
  loadAppInfo(): Promise<void>;
}

export function pageFromHash(hash: string): Page | null {
  const name = hash.replace(/^#\/?/, '');
  return (pages as readonly string[]).includes(name) ? (name as Page) : null;
}

export function hashOf(page: Page): string {
  return `#/${page}`;
}

export const createUiSlice: SliceCreator<UiSlice> = (set) => ({
  ui: { page: 'dashboard', editor: null, appInfo: null, connected: true, lostAt: null },

  setConnected(connected) {
    set((state) =>
      state.ui.connected === connected
        ? state
        : { ui: { ...state.ui, connected, lostAt: connected ? null : Date.now() } },
    );
  },

  setPage(page) {
    set((state) => (state.ui.page === page ? state : { ui: { ...state.ui, page } }));
  },

  openEditor(editor) {
    set((state) => ({ ui: { ...state.ui, page: 'instruments', editor } }));
  },

  async loadAppInfo() {
    const result = await call(() => getApi().getAppInfo({}));
    if (!result.ok) return;
    setDisplayZone(result.value.timeZone);
    set((state) => ({ ui: { ...state.ui, appInfo: result.value } }));
  },
});
