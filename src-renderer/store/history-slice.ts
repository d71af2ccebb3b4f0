import type { StateCreator } from 'zustand';

/** Message history: the query, the loaded pages, the selected message. */
export interface HistorySlice {
  history: {
    search: string;
  };
  setHistorySearch(search: string): void;
}

export const createHistorySlice: StateCreator<HistorySlice, [], [], HistorySlice> = (set) => ({
  history: { search: '' },
  setHistorySearch: (search) => set((state) => ({ history: { ...state.history, search } })),
});
