import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  StoreError,
  simulatedFault,
  type NewMessage,
  type Store,
  type WriteFailure,
} from '../../src-main/store';
import { astmMessage, hl7Message, storeSandbox, T0 } from './fixtures';
import { storeTestHooks } from '../../src-main/store/store';

let sandbox: ReturnType<typeof storeSandbox>;
let store: Store;
beforeEach(() => {
  sandbox = storeSandbox();
  store = sandbox.open({ queue: { sideFlushMs: 20 } });
});
afterEach(() => sandbox.cleanup());

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('commits everything enqueued in one turn with one transaction, then resolves each', async () => {
    const before = store.metrics().writeTransactions;
    const messages = Array.from({ length: 40 }, (_, n) =>
      n % 2
        ? hl7Message(n, { instrumentId: `link${n}` })
        : astmMessage(n, { instrumentId: `link${n}` }),
    );
    const settled: number[] = [];
    const pending = messages.map((m, i) => store.enqueue(m).then((o) => (settled.push(i), o)));
    expect(settled).toEqual([]);
    expect(store.counts().messages).toBe(0);
    const outcomes = await Promise.all(pending);
    expect(store.metrics().writeTransactions).toBe(before + 1);
    expect(store.metrics().largestBatch).toBe(40);
    expect(new Set(outcomes.map((o) => o.id)).size).toBe(40);
    expect(outcomes.every((o) => !o.duplicate)).toBe(true);
    for (const [i, outcome] of outcomes.entries()) {
      expect(store.getMessage(outcome.id)?.text).toBe(messages[i]!.text);
    }
  });

  it('resolves only after the commit: the message is readable by then', async () => {
    const outcome = await store.enqueue(hl7Message(1));
    const reader = sandbox.open({ readonly: true });
    expect(reader.getMessage(outcome.id)?.controlId).toBe(hl7Message(1).controlId);
  });

  it('starts a new transaction for messages enqueued in a later turn', async () => {
    const before = store.metrics().writeTransactions;
    const first = store.enqueue(hl7Message(1));
    await nextTurn();
    const second = store.enqueue(hl7Message(2));
    await Promise.all([first, second]);
    expect(store.metrics().writeTransactions).toBe(before + 2);
  });

  it('stores a message resent within the same batch once', async () => {
    const [a, b] = await Promise.all([
      store.enqueue(hl7Message(1, { dedupeKey: 'MSG1' })),
      store.enqueue(hl7Message(1, { dedupeKey: 'MSG1' })),
    ]);
    expect(b).toEqual({ id: a!.id, duplicate: true });
    expect(store.counts().messages).toBe(1);
  });

  it('refuses a malformed message alone; the rest of its turn is stored', async () => {
    const good = store.enqueue(hl7Message(1));
    const bad = store.enqueue({ ...hl7Message(2), direction: 'sideways' } as unknown as NewMessage);
    await expect(bad).rejects.toMatchObject({ code: 'STORE_INVALID' });
    await expect(good).resolves.toMatchObject({ duplicate: false });
  });

  it('writes events with the messages and the trace on its own, without waiting for them', async () => {
    const before = store.metrics().writeTransactions;
    store.enqueueTrace({
      instrumentId: 'chem1',
      connectionId: 'c1',
      at: T0,
      direction: 'in',
      bytes: Buffer.from([5]),
    });
    store.enqueueEvent({
      at: T0,
      instrumentId: 'chem1',
      kind: 'status',
      level: 'info',
      message: 'connected',
    });
    await store.enqueue(astmMessage(1));
    expect(store.metrics().writeTransactions).toBe(before + 1);
    // The trace never rides in a commit that an acknowledgement waits for.
    expect(store.counts()).toMatchObject({ messages: 1, events: 1, trace: 0 });
    await vi.waitFor(() => expect(store.counts().trace).toBe(1), { timeout: 2000, interval: 5 });
  });

  it('writes events and trace entries alone within the flush interval', async () => {
    store.enqueueEvent({
      at: T0,
      kind: 'user-action',
      level: 'info',
      message: 'reconnect pressed',
    });
    expect(store.counts().events).toBe(0);
    await vi.waitFor(() => expect(store.counts().events).toBe(1), { timeout: 2000, interval: 5 });
  });

  it('writes them without waiting once enough are queued', async () => {
    const busy = sandbox.open({
      file: sandbox.file('busy.sqlite'),
      queue: { sideFlushMs: 60_000, sideFlushEntries: 10 },
    });
    for (let i = 0; i < 10; i++) {
      busy.enqueueTrace({
        instrumentId: 'a',
        connectionId: 'c',
        at: T0 + i,
        direction: 'out',
        bytes: Buffer.of(6),
      });
    }
    await nextTurn();
    expect(busy.counts().trace).toBe(10);
  });

  it('writes what is queued when closed, and quietly drops late events and trace', async () => {
    const pending = store.enqueue(hl7Message(1));
    expect(store.enqueueEvent({ at: T0, kind: 'status', level: 'info', message: 'stopping' })).toBe(
      true,
    );
    store.close();
    await expect(pending).resolves.toMatchObject({ duplicate: false });
    expect(store.enqueueEvent({ at: T0, kind: 'status', level: 'info', message: 'too late' })).toBe(
      false,
    );
    expect(
      store.enqueueTrace({
        instrumentId: 'a',
        connectionId: 'c',
        at: T0,
        direction: 'in',
        bytes: Buffer.of(4),
      }),
    ).toBe(false);
    expect(store.metrics().droppedEntries).toBe(2);
    const reopened = sandbox.open();
    expect(reopened.counts()).toMatchObject({ messages: 1, events: 1 });
  });
});

describe('a failing write', () => {
  it('rejects every message of the batch with the code, stores nothing, and recovers', async () => {
    const failures: WriteFailure[] = [];
    store.onWriteError((failure) => failures.push(failure));
    storeTestHooks(store).setFaultInjector(() => {
      throw simulatedFault('full');
    });
    store.enqueueEvent({ at: T0, kind: 'status', level: 'info', message: 'lost with the batch' });
    const batch = [hl7Message(1), astmMessage(2), hl7Message(3)].map((m) => store.enqueue(m));
    const errors = await Promise.all(
      batch.map((p) =>
        p.then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of errors) {
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({
        code: 'STORE_FULL',
        message: 'could not save 3 messages: the disk is full',
      });
    }
    expect(store.counts()).toMatchObject({ messages: 0, results: 0, events: 0, sampleKeys: 0 });
    expect(storeTestHooks(store).searchIndexCandidates(hl7Message(1).controlId!)).toEqual([]);
    // The event goes with the batch, or with the side work when its timer is due first (a
    // loaded machine): lost either way, counted once, and never mixed into another write.
    const withMessages = failures.filter((failure) => failure.messages > 0);
    expect(withMessages).toEqual([
      { error: errors[0], messages: 3, events: withMessages[0]!.events, trace: 0 },
    ]);
    expect(failures.reduce((sum, failure) => sum + failure.events, 0)).toBe(1);
    expect(store.metrics()).toMatchObject({ failedWrites: failures.length, droppedEntries: 1 });

    storeTestHooks(store).setFaultInjector(null);
    const outcome = await store.enqueue(hl7Message(4));
    expect(store.getMessage(outcome.id)).not.toBeNull();
    expect(store.counts().messages).toBe(1);
  });

  it('names a read-only file and a single message in plain words', async () => {
    storeTestHooks(store).setFaultInjector(() => {
      throw simulatedFault('readonly');
    });
    await expect(store.enqueue(hl7Message(1))).rejects.toMatchObject({
      code: 'STORE_READONLY',
      message: 'could not save the message: the database file is read-only',
    });
    expect(() => store.insertMessages([hl7Message(2)])).toThrow(
      expect.objectContaining({ code: 'STORE_READONLY' }),
    );
    expect(() => store.upsertInstrument('x', {})).toThrow(
      expect.objectContaining({ code: 'STORE_READONLY' }),
    );
    expect(store.counts().messages).toBe(0);
    expect(store.listInstruments()).toEqual([]);
  });

  it('keeps listeners from breaking each other', async () => {
    const heard: string[] = [];
    store.onWriteError(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = store.onWriteError((f) => heard.push(f.error.code));
    storeTestHooks(store).setFaultInjector(() => {
      throw simulatedFault('io');
    });
    await expect(store.enqueue(hl7Message(1))).rejects.toMatchObject({ code: 'STORE_IO' });
    unsubscribe();
    await expect(store.enqueue(hl7Message(2))).rejects.toMatchObject({ code: 'STORE_IO' });
    expect(heard).toEqual(['STORE_IO']);
  });
});
