/**
 * How the history components reach their store. The view receives any zustand store that holds a
 * `HistorySlice` (the app's one store, or a store of the slice alone in tests) and shares it with
 * its children, so nothing under `history/` imports the app's composition.
 */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore, type StoreApi } from 'zustand';
import type { HistorySlice } from '../store/history-slice';

const HistoryStoreContext = createContext<StoreApi<HistorySlice> | null>(null);

export function HistoryStoreProvider({
  store,
  children,
}: {
  store: StoreApi<HistorySlice>;
  children: ReactNode;
}) {
  return <HistoryStoreContext value={store}>{children}</HistoryStoreContext>;
}

export function useHistoryStoreApi(): StoreApi<HistorySlice> {
  const store = useContext(HistoryStoreContext);
  if (!store) throw new Error('history components must be rendered inside <HistoryView store={…}>');
  return store;
}

/** Selects from the history store; pass `useShallow(...)` for object selections. */
export function useHistory<T>(selector: (state: HistorySlice) => T): T {
  return useStore(useHistoryStoreApi(), selector);
}
