/**
 * A large history in minutes through the store's own bulk path: a seed of messages is built
 * once (as the history suite builds each of its messages, the slow part), then stored again and
 * again by `insertMessages` in large batches, each copy a further span back in time, until the
 * count is reached. The store writes every copy as it writes any message (lookups, compact
 * form, search index); only the building is shared. For benchmarks only.
 */
import type { NewMessage } from '../src-main/store/types';
import type { Store } from '../src-main/store/store';
import { seededRandom } from './fixtures';
import { message } from './history';

const DAY = 86_400_000;
const BATCH = 10_000;

export interface FastFill {
  messages: number;
  seed: number;
  /** Building the seed, storing the copies, and the store's search index catching up. */
  buildMs: number;
  insertMs: number;
  indexMs: number;
}

export function fastFill(
  store: Store,
  count: number,
  onProgress: (done: number) => void = () => undefined,
  seedCount = Math.min(count, 20_000),
): FastFill {
  const random = seededRandom(42);
  const lastAt = Date.now();
  // The seed spans 30 days ending now; each copy the 30 days before the last one.
  const span = 30 * DAY;
  const step = span / seedCount;
  const t0 = performance.now();
  const seed: NewMessage[] = Array.from({ length: seedCount }, (_, n) =>
    message(n, Math.round(lastAt - span + n * step), random),
  );
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  let done = 0;
  for (let round = 0; done < count; round++) {
    const back = round * span;
    for (let from = 0; from < seedCount && done < count; from += BATCH) {
      const batch = seed.slice(from, Math.min(seedCount, from + BATCH, from + count - done));
      store.insertMessages(
        batch.map((m) => ({
          ...m,
          receivedAt: m.receivedAt - back,
          // A copy is a message of another day, not a resend of the seed's.
          dedupeKey: m.dedupeKey ? `${m.dedupeKey}:${round}` : null,
        })),
      );
      done += batch.length;
      onProgress(done);
    }
  }
  const insertMs = performance.now() - t1;
  const t2 = performance.now();
  store.flush();
  const indexMs = performance.now() - t2;
  return { messages: done, seed: seedCount, buildMs, insertMs, indexMs };
}
