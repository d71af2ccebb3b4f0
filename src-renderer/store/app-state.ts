import type { StateCreator } from 'zustand';
import type { DestinationsSlice } from './destinations-slice';
import type { HistorySlice } from './history-slice';
import type { InstrumentsSlice } from './instruments-slice';
import type { LogSlice } from './log-slice';
import type { StatsSlice } from './stats-slice';
import type { UiSlice } from './ui-slice';

export type AppState = InstrumentsSlice &
  LogSlice &
  StatsSlice &
  UiSlice &
  HistorySlice &
  DestinationsSlice;

/** A slice sees the whole state, so its actions can read what other slices hold. */
export type SliceCreator<Slice> = StateCreator<AppState, [], [], Slice>;
