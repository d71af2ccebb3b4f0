import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../../src-main/store';
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
    const messages = Array.from({ length: 250 }, (_, n) => hl7Message(n));
    const outcomes = await Promise.all(messages.map((m) => store.enqueue(m)));
    const look = reader(sandbox.file());
    try {
      const transactions = store.metrics().writeTransactions;
      await vi.waitFor(
        () => expect(storeTestHooks(look).searchIndexCandidates('glucose')).toHaveLength(250),
        { timeout: 2000, interval: 5 },
      );
      // 100 messages a step: three side transactions, not one long one.
      expect(store.metrics().writeTransactions - transactions).toBe(3);
      expect(storeTestHooks(look).searchIndexCandidates(messages[249]!.controlId!)).toEqual([
        outcomes[249]!.id,
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
  async function walPeak(checkpointEveryMs: number): Promise<number> {
    const file = sandbox.file(`wal-${checkpointEveryMs}.sqlite`);
    const store = openStore({
      file,
      durability: 'normal',
      checkpointEveryMs,
      queue: { sideFlushMs: 1 },
    });
    let peak = 0;
    try {
      for (let round = 0; round < 40; round++) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.enqueue(hl7Message(round * 20 + i))),
        );
        await sleep(5);
        peak = Math.max(peak, fs.statSync(`${file}-wal`).size);
      }
      expect(store.counts().messages).toBe(800);
    } finally {
      store.close();
    }
    return peak;
  }

  it('keeps the write-ahead log bounded without SQLite checkpointing inside commits', async () => {
    const bounded = await walPeak(0);
    const unchecked = await walPeak(3_600_000);
    expect(bounded).toBeLessThan(unchecked / 4);
  }, 30_000);
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
