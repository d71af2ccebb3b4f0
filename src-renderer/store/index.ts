/**
 * The renderer's one store. Each slice owns a part of the state and its actions; components
 * select the narrow part they show.
 */
import { create } from 'zustand';
import type { AppState } from './app-state';
import { createDestinationsSlice } from './destinations-slice';
import { createHistorySlice } from './history-slice';
import { createInstrumentsSlice } from './instruments-slice';
import { createLogSlice } from './log-slice';
import { createStatsSlice } from './stats-slice';
import { createUiSlice } from './ui-slice';

export type { AppState } from './app-state';

export const useAppStore = create<AppState>()((...args) => ({
  ...createInstrumentsSlice(...args),
  ...createLogSlice(...args),
  ...createStatsSlice(...args),
  ...createUiSlice(...args),
  ...createHistorySlice(...args),
  ...createDestinationsSlice(...args),
}));

/** Back to the state the app starts with; tests call it between cases. */
export function resetAppStore(): void {
  useAppStore.setState(useAppStore.getInitialState(), true);
}
