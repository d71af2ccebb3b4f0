import type { Stats } from '../../src-shared/contract';
import { getApi } from '../api';
import type { SliceCreator } from './app-state';
import { call } from './call';

export type InstrumentStats = Stats['instruments'][number];

export interface StatsSlice {
  stats: {
    /** When the gateway computed the figures; 0 before the first ones arrive. */
    at: number;
    byInstrument: Record<string, InstrumentStats>;
  };
  /** Older figures than the ones held are ignored (a slow `getStats` after a tick). */
  applyStats(stats: Stats): void;
  loadStats(): Promise<void>;
}

export const createStatsSlice: SliceCreator<StatsSlice> = (set, get) => ({
  stats: { at: 0, byInstrument: {} },

  applyStats(stats) {
    if (stats.at < get().stats.at) return;
    const byInstrument: Record<string, InstrumentStats> = {};
    for (const figures of stats.instruments) byInstrument[figures.instrumentId] = figures;
    set({ stats: { at: stats.at, byInstrument } });
  },

  async loadStats() {
    const result = await call(() => getApi().getStats({}));
    if (result.ok) get().applyStats(result.value);
  },
});
