import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hl7Message, storeSandbox } from './fixtures';

let sandbox: ReturnType<typeof storeSandbox>;
beforeEach(() => {
  sandbox = storeSandbox();
});
afterEach(() => sandbox.cleanup());

describe('bytes written to the write-ahead log', () => {
  it('counts every commit, also across checkpoints that start the log over', () => {
    const store = sandbox.open({ checkpointEveryMs: 1e9 });
    const before = store.metrics().walBytes;
    store.insertMessages([hl7Message(1)]);
    const one = store.metrics().walBytes - before;
    // A commit writes whole pages, each with its 24-byte frame header.
    expect(one).toBeGreaterThan(0);
    expect(one % (4096 + 24)).toBe(0);

    // Each checkpoint copies the whole log, so the next commit starts it over from frame 1.
    for (let n = 2; n <= 5; n++) {
      const outcome = store.checkpoint(n % 2 === 0 ? 'truncate' : 'passive');
      expect(outcome.checkpointedPages).toBe(outcome.walPages);
      const at = store.metrics().walBytes;
      store.insertMessages([hl7Message(n)]);
      expect(store.metrics().walBytes - at).toBeGreaterThanOrEqual(one / 2);
    }
    // Reading again adds nothing.
    const total = store.metrics().walBytes;
    expect(store.metrics().walBytes).toBe(total);
    store.close();
  });
});
