/** Traffic per instrument over the last hour, for the dashboard's sparklines. */
import type { CommandResponse } from '../../src-shared/contract';
import type { Clock } from '../protocols/clock';
import type { HistoryReader } from '../store/store';

const HOUR = 3600_000;
const MINUTE = 60_000;

export type Stats = CommandResponse<'getStats'>;

export function lastHourStats(store: Pick<HistoryReader, 'stats'>, clock: Clock): Stats {
  const now = clock.now();
  const since = Math.floor((now - HOUR) / MINUTE) * MINUTE + MINUTE;
  const traffic = store.stats({ since, bucketMs: MINUTE, until: since + HOUR });
  return {
    at: now,
    instruments: traffic.instruments.map((t) => ({
      instrumentId: t.instrumentId,
      perMinute: t.in.map((count, i) => count + (t.out[i] ?? 0)),
      lastHourIn: t.in.reduce((a, b) => a + b, 0),
      lastHourOut: t.out.reduce((a, b) => a + b, 0),
    })),
  };
}
