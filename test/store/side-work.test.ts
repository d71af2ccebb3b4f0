import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type Store, type WriteFailure } from '../../src-main/store';
import { hl7Message, storeSandbox, T0 } from './fixtures';
import { storeTestHooks } from '../../src-main/store/store';

let sandbox: ReturnType<typeof storeSandbox>;
beforeEach(() => {
  sandbox = storeSandbox();
});
afterEach(() => sandbox.cleanup());

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A second connection that only reads, so that looking does not make the writer index. */
function reader(file: string): Store {
  return openStore({ file, readonly: true });
}

describe('search index kept out of the acknowledging commit', () => {
  it('commits the message alone, and files its IDs and indexes it with the side work', async () => {
    const store = sandbox.open({ queue: { sideFlushMs: 50 } });
    const message = hl7Message(1);
    const { id } = await store.enqueue(message);
    const look = reader(sandbox.file());
    try {
      expect(look.getMessage(id)).not.toBeNull();
      // Its ID lookups are filed after the commit too, and a query finds it meanwhile.
      expect(look.counts()).toMatchObject({ messages: 1, sampleKeys: 0, patientKeys: 0 });
      expect(look.queryMessages({ sampleId: message.results[0]!.sampleId! }).items).toHaveLength(1);
      expect(look.queryMessages({ patientId: message.results[0]!.patientId! }).items).toHaveLength(
        1,
      );
      expect(storeTestHooks(look).searchIndexCandidates(message.controlId!)).toEqual([]);
      await vi.waitFor(
        () => expect(look.counts()).toMatchObject({ sampleKeys: 1, patientKeys: 1 }),
        { timeout: 2000, interval: 5 },
      );
      expect(look.queryMessages({ sampleId: message.results[0]!.sampleId! }).items).toHaveLength(1);
      await vi.waitFor(
        () => expect(storeTestHooks(look).searchIndexCandidates(message.controlId!)).toEqual([id]),
        {
          timeout: 2000,
          interval: 5,
        },
      );
    } finally {
      look.close();
    }
  });

  it('finds a message by search right after it is stored, before the side work ran', async () => {
    const store = sandbox.open({ queue: { sideFlushMs: 60_000 } });
    const message = hl7Message(7);
    const { id } = await store.enqueue(message);
    const page = store.queryMessages({ search: message.controlId! });
    expect(page.items.map((m) => m.id)).toEqual([id]);
    const look = reader(sandbox.file());
    try {
      expect(storeTestHooks(look).searchIndexCandidates(message.controlId!)).toEqual([id]);
    } finally {
      look.close();
    }
  });

  it('works off a backlog in short steps, one per turn of the event loop', async () => {
    const store = sandbox.open({ queue: { sideFlushMs: 50 } });
    const messages = Array.from({ length: 240 }, (_, n) => hl7Message(n));
    const outcomes = await Promise.all(messages.map((m) => store.enqueue(m)));
    const look = reader(sandbox.file());
    try {
      const transactions = store.metrics().writeTransactions;
      await vi.waitFor(
        () => expect(storeTestHooks(look).searchIndexCandidates('glucose')).toHaveLength(240),
        { timeout: 2000, interval: 5 },
      );
      // 100 messages a step: three side transactions (the last one of 40), not one long one.
      expect(store.metrics().writeTransactions - transactions).toBe(3);
      expect(storeTestHooks(look).searchIndexCandidates(messages[239]!.controlId!)).toEqual([
        outcomes[239]!.id,
      ]);
    } finally {
      look.close();
    }
  });

  it('indexes on open what a killed process had stored but not indexed', async () => {
    const file = sandbox.file('crashed.sqlite');
    const store = openStore({ file, queue: { sideFlushMs: 60_000 } });
    const messages = Array.from({ length: 30 }, (_, n) => hl7Message(n));
    const outcomes = await Promise.all(messages.map((m) => store.enqueue(m)));
    // The files as a SIGKILL leaves them: committed, never indexed, never closed.
    const copy = sandbox.file('restarted.sqlite');
    fs.copyFileSync(file, copy);
    fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
    store.close();

    const before = reader(copy);
    expect(before.counts().messages).toBe(30);
    expect(storeTestHooks(before).searchIndexCandidates(messages[29]!.controlId!)).toEqual([]);
    before.close();

    const restarted = openStore({ file: copy });
    const look = reader(copy);
    try {
      for (const [i, message] of messages.entries()) {
        expect(storeTestHooks(look).searchIndexCandidates(message.controlId!)).toEqual([
          outcomes[i]!.id,
        ]);
      }
      expect(storeTestHooks(look).searchIndexCandidates('glucose')).toHaveLength(30);
    } finally {
      look.close();
      restarted.close();
    }
  });

  it('purges messages never indexed, and indexes messages that reuse a purged ID', () => {
    const store = sandbox.open();
    const old = store.insertMessages([1, 2, 3].map((n) => hl7Message(n, { receivedAt: T0 + n })));
    expect(storeTestHooks(store).searchIndexCandidates(hl7Message(2).controlId!)).toEqual([
      old[1]!.id,
    ]);
    // Stored after the last indexing and purged before the next.
    store.insertMessages([hl7Message(4, { receivedAt: T0 + 4 })]);
    const purge = { messagesBefore: T0 + 10, traceBefore: T0, batchSize: 100 };
    expect(store.purge(purge).messages).toBe(4);
    // SQLite hands out ID 1 again: the new row must be indexed although it is below the old ones.
    const [fresh] = store.insertMessages([hl7Message(5, { receivedAt: T0 + 20 })]);
    expect(fresh!.id).toBe(1);
    store.flush();
    expect(storeTestHooks(store).searchIndexCandidates(hl7Message(5).controlId!)).toEqual([1]);
    expect(storeTestHooks(store).searchIndexCandidates(hl7Message(1).controlId!)).toEqual([]);
    expect(storeTestHooks(store).searchIndexCandidates(hl7Message(4).controlId!)).toEqual([]);
    expect(store.queryMessages({ search: 'glucose' }).items.map((m) => m.id)).toEqual([1]);
    expect(store.purge({ ...purge, messagesBefore: T0 + 30 }).messages).toBe(1);
    expect(storeTestHooks(store).searchIndexCandidates('glucose')).toEqual([]);
  });
});

describe('trace written by the side work', () => {
  it('stores every entry within the flush interval, in its own transaction', async () => {
    // Long enough that the message's own commit (one event-loop turn) always comes first, even
    // on a loaded machine; the entries must still be written by the side work on their own.
    const store = sandbox.open({ queue: { sideFlushMs: 1_000 } });
    for (let i = 0; i < 5; i++) {
      expect(
        store.enqueueTrace({
          instrumentId: 'hema1',
          connectionId: 'c1',
          at: T0 + i,
          direction: i % 2 === 0 ? 'in' : 'out',
          bytes: Buffer.of(i),
        }),
      ).toBe(true);
    }
    await store.enqueue(hl7Message(1));
    expect(store.counts().trace).toBe(0);
    await vi.waitFor(() => expect(store.counts().trace).toBe(5), { timeout: 5000, interval: 5 });
    const page = store.getTrace({ instrumentId: 'hema1', from: T0, to: T0 + 10 });
    expect(page.items.map((t) => [...t.bytes])).toEqual([[0], [1], [2], [3], [4]]);
  });
});

describe('checkpoints', () => {
  let files = 0;
  /** The thread starts with the first checkpoint due, i.e. after a write. */
  const threadReady = async (store: Store) => {
    expect(storeTestHooks(store).checkpointsOnThread()).toBe(false);
    await store.enqueue(hl7Message(100_000));
    await vi.waitFor(() => expect(storeTestHooks(store).checkpointsOnThread()).toBe(true), {
      timeout: 5000,
      interval: 5,
    });
  };

  async function walPeak(
    checkpointEveryMs: number,
    options: { checkpointThread?: boolean; first?: (store: Store) => Promise<void> } = {},
  ): Promise<{ peak: number; store: Store }> {
    const file = sandbox.file(`wal-${files++}.sqlite`);
    const store = openStore({
      file,
      durability: 'normal',
      checkpointEveryMs,
      queue: { sideFlushMs: 1 },
      ...(options.checkpointThread === undefined
        ? {}
        : { checkpointThread: options.checkpointThread }),
    });
    let peak = 0;
    try {
      await options.first?.(store);
      const before = store.counts().messages;
      for (let round = 0; round < 40; round++) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.enqueue(hl7Message(round * 20 + i))),
        );
        await sleep(5);
        peak = Math.max(peak, fs.statSync(`${file}-wal`).size);
      }
      expect(store.counts().messages).toBe(before + 800);
    } finally {
      store.close();
    }
    return { peak, store };
  }

  it('keeps the write-ahead log bounded without SQLite checkpointing inside commits', async () => {
    const bounded = await walPeak(0, { checkpointThread: false });
    const unchecked = await walPeak(3_600_000);
    expect(bounded.peak).toBeLessThan(unchecked.peak / 4);
    expect(storeTestHooks(bounded.store).checkpointCounts().threadPasses).toBe(0);
  }, 30_000);

  it('copies the log on its own thread and still starts it over while writes go on', async () => {
    const bounded = await walPeak(0);
    const unchecked = await walPeak(3_600_000);
    expect(bounded.peak).toBeLessThan(unchecked.peak / 4);
    const counts = storeTestHooks(bounded.store).checkpointCounts();
    expect(counts.threadPasses).toBeGreaterThan(0);
    // The store's own connection finishes each round of the thread's passes (and checkpoints
    // alone until the thread has opened its connection).
    expect(counts.ownConnection).toBeGreaterThan(0);
  }, 30_000);

  it('reports a crashed checkpoint thread and checkpoints on the main thread from then on', async () => {
    const heard: WriteFailure[] = [];
    const unchecked = await walPeak(3_600_000);
    const { peak, store } = await walPeak(0, {
      first: async (store) => {
        store.onWriteError((failure) => heard.push(failure));
        await threadReady(store);
        await storeTestHooks(store).killCheckpointThread();
        expect(storeTestHooks(store).checkpointsOnThread()).toBe(false);
      },
    });
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ messages: 0, events: 0, trace: 0 });
    expect(heard[0]!.error.code).toBe('STORE_WRITE_FAILED');
    expect(heard[0]!.error.message).toMatch(/checkpoint.*main thread/);
    // Every message stored (walPeak counts them) and the log still bounded.
    expect(peak).toBeLessThan(unchecked.peak / 4);
    expect(storeTestHooks(store).checkpointCounts().ownConnection).toBeGreaterThan(0);
  }, 30_000);

  it('lets a checkpoint asked for wait for the thread, so that it never finds the log busy', async () => {
    const file = sandbox.file('asked.sqlite');
    const store = openStore({ file, checkpointEveryMs: 0, queue: { sideFlushMs: 1 } });
    await threadReady(store);
    for (let round = 0; round < 30; round++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.enqueue(hl7Message(round * 20 + i))),
      );
      // Side work (and so a pass of the thread) runs at the next turn; let it start.
      await sleep(round % 3);
      expect(store.checkpoint('truncate')).toMatchObject({ busy: false, walPages: 0 });
      expect(fs.statSync(`${file}-wal`).size).toBe(0);
    }
    expect(storeTestHooks(store).checkpointCounts().threadPasses).toBeGreaterThan(0);
    store.close();
  }, 30_000);

  it('checkpoints when due on the injected clock: first on its own connection, then by the thread', async () => {
    let now = 0;
    const store = sandbox.open({
      checkpointEveryMs: 1000,
      monotonicNow: () => now,
      queue: { sideFlushMs: 60_000 },
    });
    const hooks = storeTestHooks(store);
    await store.enqueue(hl7Message(1));
    store.flush();
    expect(hooks.checkpointCounts()).toEqual({ threadPasses: 0, ownConnection: 0 });
    now = 999;
    store.flush();
    expect(hooks.checkpointCounts()).toEqual({ threadPasses: 0, ownConnection: 0 });
    // Due: the first round runs here while the thread starts.
    now = 1000;
    store.flush();
    expect(hooks.checkpointCounts()).toEqual({ threadPasses: 0, ownConnection: 1 });
    await vi.waitFor(() => expect(hooks.checkpointsOnThread()).toBe(true), {
      timeout: 5000,
      interval: 5,
    });
    await store.enqueue(hl7Message(2));
    store.flush();
    expect(hooks.checkpointCounts()).toEqual({ threadPasses: 0, ownConnection: 1 });
    // The next round: a pass of the thread, then the few pages left on the store's connection.
    now = 2000;
    store.flush();
    await vi.waitFor(
      () => expect(hooks.checkpointCounts()).toEqual({ threadPasses: 1, ownConnection: 2 }),
      { timeout: 5000, interval: 5 },
    );
    // Everything copied: nothing is due until the next write.
    now = 10_000;
    store.flush();
    expect(hooks.checkpointCounts()).toEqual({ threadPasses: 1, ownConnection: 2 });
  });

  it('joins the thread on close, so the last connection removes the log', async () => {
    const file = sandbox.file('joined.sqlite');
    const store = openStore({ file, checkpointEveryMs: 0, queue: { sideFlushMs: 1 } });
    await threadReady(store);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.enqueue(hl7Message(i))));
    await vi.waitFor(
      () => expect(storeTestHooks(store).checkpointCounts().threadPasses).toBeGreaterThan(0),
      { timeout: 5000, interval: 5 },
    );
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const reopened = openStore({ file, readonly: true });
    expect(reopened.counts().messages).toBe(51);
    reopened.close();
  });
});

describe('reading the trace', () => {
  it('writes queued entries first, so a reader sees every chunk so far', () => {
    const store = sandbox.open({ queue: { sideFlushMs: 60_000 } });
    store.enqueueTrace({
      instrumentId: 'hema1',
      connectionId: 'c1',
      at: T0,
      direction: 'in',
      bytes: Buffer.of(5),
    });
    const page = store.getTrace({ instrumentId: 'hema1', from: T0, to: T0 + 1 });
    expect(page.items.map((t) => [...t.bytes])).toEqual([[5]]);
  });
});
