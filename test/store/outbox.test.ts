import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simulatedFault, type NewMessage, type Store } from '../../src-main/store';
import { storeTestHooks } from '../../src-main/store/store';
import { astmMessage, hl7Message, storeSandbox, T0 } from './fixtures';

let sandbox: ReturnType<typeof storeSandbox>;
let store: Store;
beforeEach(() => {
  sandbox = storeSandbox();
  store = sandbox.open({ queue: { sideFlushMs: 20 } });
  store.upsertDestination('lis', { id: 'lis', type: 'hl7', host: '127.0.0.1', port: 2575 }, 'file');
  store.upsertDestination('archive', { id: 'archive', type: 'file', directory: '/tmp' }, 'app');
});
afterEach(() => sandbox.cleanup());

const toLis = (message: NewMessage, ...ids: string[]): NewMessage => ({
  ...message,
  outbox: (ids.length > 0 ? ids : ['lis']).map((destinationId) => ({
    destinationId,
    scope: 'patient' as const,
  })),
});

describe('outbox entries are written in the transaction of their message', () => {
  it('stores one entry per destination with the message, visible to another reader at once', async () => {
    const outcome = await store.enqueue(toLis(hl7Message(1), 'lis', 'archive'));
    const reader = sandbox.open({ readonly: true });
    const entries = reader.listOutbox({ messageId: outcome.id });
    expect(entries.map((e) => [e.destinationId, e.state, e.attempts])).toEqual([
      ['lis', 'pending', 0],
      ['archive', 'pending', 0],
    ]);
    expect(entries[0]).toMatchObject({
      messageId: outcome.id,
      lastAttemptAt: null,
      deliveredAt: null,
      error: null,
    });
    expect(entries[0]!.controlId).not.toBe(entries[1]!.controlId);
  });

  it('writes nothing for a message without destinations, and nothing again for a duplicate', async () => {
    await store.enqueue(astmMessage(1));
    const first = await store.enqueue(toLis(hl7Message(2, { dedupeKey: 'K2' })));
    const again = await store.enqueue(toLis(hl7Message(2, { dedupeKey: 'K2' })));
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(store.listOutbox()).toHaveLength(1);
    expect(store.listOutbox()[0]!.messageId).toBe(first.id);
  });

  it('a storage fault at commit keeps neither the messages nor their entries', async () => {
    await store.enqueue(toLis(hl7Message(1)));
    storeTestHooks(store).setFaultInjector(() => {
      throw simulatedFault('full');
    });
    const batch = [hl7Message(2), astmMessage(3), hl7Message(4)].map((m) =>
      store.enqueue(toLis(m, 'lis', 'archive')),
    );
    for (const attempt of batch) {
      await expect(attempt).rejects.toMatchObject({ code: 'STORE_FULL' });
    }
    expect(store.counts().messages).toBe(1);
    expect(store.listOutbox()).toHaveLength(1);
    storeTestHooks(store).setFaultInjector(null);
    const outcome = await store.enqueue(toLis(hl7Message(5)));
    expect(store.listOutbox({ messageId: outcome.id })).toHaveLength(1);
  });

  it('an outbox row that cannot be written takes its message and its whole batch with it', async () => {
    // A real SQLite failure inside the outbox insert, after the message row was written.
    const other = new Database(sandbox.file());
    other.exec(`CREATE TRIGGER refuse_archive BEFORE INSERT ON outbox
      WHEN new.destination_id = 'archive' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`);
    other.close();
    const plain = store.enqueue(hl7Message(1));
    const refused = store.enqueue(toLis(astmMessage(2), 'lis', 'archive'));
    await expect(refused).rejects.toMatchObject({ code: expect.stringMatching(/^STORE_/) });
    await expect(plain).rejects.toMatchObject({ code: expect.stringMatching(/^STORE_/) });
    expect(store.counts().messages).toBe(0);
    expect(store.listOutbox()).toEqual([]);
    // The next batch, without the refused destination, is stored whole.
    const outcome = await store.enqueue(toLis(astmMessage(3), 'lis'));
    expect(store.counts().messages).toBe(1);
    expect(store.listOutbox().map((e) => e.messageId)).toEqual([outcome.id]);
  });

  it('keeps the control ID of an entry across a reopen of the file', async () => {
    const outcome = await store.enqueue(toLis(hl7Message(1), 'lis', 'archive'));
    const before = store.listOutbox({ messageId: outcome.id }).map((e) => e.controlId);
    store.close();
    const reopened = sandbox.open();
    expect(reopened.listOutbox({ messageId: outcome.id }).map((e) => e.controlId)).toEqual(before);
    // A purged and reused message ID never reuses a control ID.
    reopened.purge({ messagesBefore: T0 + 10_000_000, traceBefore: 0 });
    expect(reopened.listOutbox()).toEqual([]);
    const next = await reopened.enqueue(toLis(hl7Message(1)));
    const [entry] = reopened.listOutbox({ messageId: next.id });
    expect(before).not.toContain(entry!.controlId);
  });

  it('refuses a malformed outbox alone, naming the problem', async () => {
    const bad = store.enqueue({
      ...hl7Message(1),
      outbox: [
        { destinationId: 'lis', scope: 'patient' },
        { destinationId: 'lis', scope: 'qc' },
      ],
    });
    await expect(bad).rejects.toMatchObject({
      code: 'STORE_INVALID',
      message: expect.stringContaining('names the destination lis twice'),
    });
    const scope = store.enqueue({
      ...hl7Message(2),
      outbox: [{ destinationId: 'lis', scope: 'everything' as 'all' }],
    });
    await expect(scope).rejects.toMatchObject({ code: 'STORE_INVALID' });
    expect(store.counts().messages).toBe(0);
  });
});

describe('reading the outbox', () => {
  it('lists oldest first, by destination and by state; entries of a destination on hold or gone are held', async () => {
    for (let n = 1; n <= 4; n++) await store.enqueue(toLis(hl7Message(n), 'lis', 'archive'));
    expect(store.listOutbox({ destinationId: 'lis' }).map((e) => e.messageId)).toEqual(
      [...store.listOutbox({ destinationId: 'lis' })].map((e) => e.messageId).sort((a, b) => a - b),
    );
    expect(store.listOutbox({ limit: 3 })).toHaveLength(3);
    expect(store.listOutbox({ state: 'pending' })).toHaveLength(8);

    expect(store.setDestinationHeld('lis', true)).toBe(true);
    expect(store.listOutbox({ state: 'held' }).map((e) => e.destinationId)).toEqual(
      Array(4).fill('lis'),
    );
    expect(store.listOutbox({ state: 'pending', destinationId: 'archive' })).toHaveLength(4);
    expect(store.setDestinationHeld('lis', false)).toBe(true);
    expect(store.listOutbox({ state: 'held' })).toEqual([]);

    expect(store.deleteDestination('archive')).toBe(true);
    expect(store.listOutbox({ destinationId: 'archive' }).map((e) => e.state)).toEqual(
      Array(4).fill('held'),
    );
    expect(store.setDestinationHeld('nowhere', true)).toBe(false);
  });

  it('keeps the destinations it is told about, with where they came from', () => {
    expect(store.listDestinations().map((d) => [d.id, d.source, d.held])).toEqual([
      ['archive', 'app', false],
      ['lis', 'file', false],
    ]);
    expect(store.getDestination('lis')?.config).toMatchObject({ type: 'hl7', port: 2575 });
  });
});

describe('the history by delivery', () => {
  it('filters messages by where their delivery stands and tells each page its worst state', async () => {
    const delivered = await store.enqueue(toLis(hl7Message(1)));
    const failed = await store.enqueue(toLis(hl7Message(2), 'lis', 'archive'));
    const waiting = await store.enqueue(toLis(hl7Message(3)));
    await store.enqueue(astmMessage(4));
    const entries = store.listOutbox();
    const idOf = (messageId: number, destination: string) =>
      entries.findIndex((e) => e.messageId === messageId && e.destinationId === destination);
    // Entry IDs follow insertion: the outbox rows are 1, 2, 3, 4 in order.
    store.recordAttempts([
      {
        entryId: idOf(delivered.id, 'lis') + 1,
        at: 1,
        outcome: 'delivered',
        sent: 'x',
        answer: 'AA',
        error: null,
      },
      {
        entryId: idOf(failed.id, 'lis') + 1,
        at: 2,
        outcome: 'delivered',
        sent: 'x',
        answer: 'AA',
        error: null,
      },
      {
        entryId: idOf(failed.id, 'archive') + 1,
        at: 3,
        outcome: 'failed',
        sent: 'x',
        answer: 'AR',
        error: 'no',
      },
    ]);
    const ids = (forwarding: 'pending' | 'delivered' | 'failed' | 'held') =>
      store.queryMessages({ forwarding, order: 'asc' }).items.map((m) => m.id);
    expect(ids('delivered')).toEqual([delivered.id, failed.id]);
    expect(ids('failed')).toEqual([failed.id]);
    expect(ids('pending')).toEqual([waiting.id]);
    store.setDestinationHeld('lis', true);
    expect(ids('held')).toEqual([waiting.id]);
    expect(ids('pending')).toEqual([]);
    const states = store.forwardingStates([delivered.id, failed.id, waiting.id, waiting.id + 1]);
    expect([...states]).toEqual([
      [delivered.id, 'delivered'],
      [failed.id, 'failed'],
      [waiting.id, 'held'],
    ]);
  });
});
