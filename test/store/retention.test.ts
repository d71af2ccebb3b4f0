import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src-main/store';
import { astmMessage, hl7Message, storeSandbox, T0 } from './fixtures';
import { storeTestHooks } from '../../src-main/store/store';

let sandbox: ReturnType<typeof storeSandbox>;
let store: Store;
beforeEach(() => {
  sandbox = storeSandbox();
  store = sandbox.open();
});
afterEach(() => sandbox.cleanup());

const DAY = 86_400_000;

describe('retention', () => {
  it('purges old messages with their results, lookups and index entries, a batch at a time', () => {
    const old = Array.from({ length: 23 }, (_, n) =>
      (n % 2 ? hl7Message : astmMessage)(n, { receivedAt: T0 - 400 * DAY + n }),
    );
    old.push({
      ...old[0]!,
      sampleIds: ['X-1', 'X-2'],
      patientIds: ['PX-1'],
      receivedAt: old[0]!.receivedAt,
    });
    const recent = Array.from({ length: 5 }, (_, n) => hl7Message(100 + n, { receivedAt: T0 + n }));
    const oldIds = store.insertMessages(old).map((o) => o.id);
    store.insertMessages(recent);
    store.appendTrace([
      ...Array.from({ length: 9 }, (_, i) => ({
        instrumentId: 'chem1',
        connectionId: 'c1',
        at: T0 - 40 * DAY + i,
        direction: 'in' as const,
        bytes: Buffer.of(i),
      })),
      { instrumentId: 'chem1', connectionId: 'c2', at: T0, direction: 'out', bytes: Buffer.of(6) },
    ]);
    store.insertEvents([
      { at: T0 - 400 * DAY, kind: 'status', level: 'info', message: 'old' },
      { at: T0, kind: 'status', level: 'info', message: 'new' },
    ]);
    expect(store.counts()).toMatchObject({ sampleKeys: 23 + 3 + 5, patientKeys: 23 + 2 + 5 });
    const oldSample = old[3]!.results[0]!.sampleId!;
    expect(storeTestHooks(store).searchIndexCandidates(oldSample)).toEqual([oldIds[3]]);

    const request = { messagesBefore: T0 - 365 * DAY, traceBefore: T0 - 30 * DAY, batchSize: 7 };
    const steps = [];
    for (let step = store.purge(request); ; step = store.purge(request)) {
      steps.push(step);
      if (!step.more) break;
    }
    expect(steps.map((s) => s.messages)).toEqual([7, 7, 7, 3]);
    expect(steps.map((s) => s.trace)).toEqual([7, 2, 0, 0]);
    expect(steps.every((s) => s.events === 0)).toBe(true);

    expect(store.counts()).toMatchObject({
      messages: 5,
      results: 50,
      trace: 1,
      events: 2,
      sampleKeys: 5,
      patientKeys: 5,
    });
    expect(storeTestHooks(store).searchIndexCandidates(oldSample)).toEqual([]);
    expect(storeTestHooks(store).searchIndexCandidates('c311')).toEqual([]);
    expect(store.queryMessages({ sampleId: oldSample }).items).toEqual([]);
    expect(store.getMessage(oldIds[0]!)).toBeNull();
    const kept = store.queryMessages({ search: recent[2]!.results[0]!.sampleId! }).items;
    expect(kept.map((m) => m.receivedAt)).toEqual([T0 + 2]);
    expect(store.getMessage(kept[0]!.id)!.results).toHaveLength(10);
  });

  it('purges events only when asked', () => {
    store.insertEvents([
      { at: T0 - 2 * DAY, kind: 'alarm', level: 'warn', message: 'quiet for an hour' },
      { at: T0, kind: 'alarm', level: 'warn', message: 'quiet again' },
    ]);
    expect(store.purge({ messagesBefore: T0, traceBefore: T0 })).toEqual({
      messages: 0,
      trace: 0,
      events: 0,
      more: false,
    });
    expect(
      store.purge({ messagesBefore: T0, traceBefore: T0, eventsBefore: T0 - DAY }).events,
    ).toBe(1);
    expect(store.listEvents().items.map((e) => e.message)).toEqual(['quiet again']);
  });

  it('refuses nonsense limits', () => {
    expect(() => store.purge({ messagesBefore: T0, traceBefore: T0, batchSize: 0 })).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID' }),
    );
    expect(() => store.purge({ messagesBefore: Number.NaN, traceBefore: T0 })).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID' }),
    );
  });
});
