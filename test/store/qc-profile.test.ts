import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, type NewMessage, type Store } from '../../src-main/store';
import { storeTestHooks } from '../../src-main/store/store';
import { astmMessage, storeSandbox, T0 } from './fixtures';

let sandbox: ReturnType<typeof storeSandbox>;
let store: Store;
beforeEach(() => {
  sandbox = storeSandbox();
  store = sandbox.open();
});
afterEach(() => sandbox.cleanup());

/** A message whose results at `qcAt` are QC, read with `profile`. */
function withQc(n: number, qcAt: number[], profile: string | null = null): NewMessage {
  const message = astmMessage(n, { results: 3, receivedAt: T0 + n * 1000 });
  return {
    ...message,
    profile,
    results: message.results.map((result, i) => ({ ...result, qc: qcAt.includes(i) })),
  };
}

describe('QC results and the profile a message was read with', () => {
  it('keeps the QC mark of each result and of the message, and the profile name', () => {
    const [mixed, patient] = store.insertMessages([withQc(1, [1], 'genexpert'), withQc(2, [])]);
    const detail = store.getMessage(mixed!.id)!;
    expect(detail.results.map((r) => r.qc)).toEqual([false, true, false]);
    expect(detail.qc).toBe(true);
    expect(detail.profile).toBe('genexpert');
    const plain = store.getMessage(patient!.id)!;
    expect(plain.qc).toBe(false);
    expect(plain.profile).toBeNull();
    expect([...store.messagesForCli()].map((m) => [m.profile, m.results.map((r) => r.qc)])).toEqual(
      [
        [null, [false, false, false]],
        ['genexpert', [false, true, false]],
      ],
    );
  });

  it('lists QC messages, or the others, on request (also with a search)', () => {
    store.insertMessages([withQc(1, [0]), withQc(2, []), withQc(3, [0, 1, 2]), withQc(4, [])]);
    const ids = (filter: object) =>
      store.queryMessages({ order: 'asc', ...filter }).items.map((m) => [m.id, m.qc]);
    expect(ids({ qc: true })).toEqual([
      [1, true],
      [3, true],
    ]);
    expect(ids({ qc: false })).toEqual([
      [2, false],
      [4, false],
    ]);
    expect(ids({})).toHaveLength(4);
    const sample = store.getMessage(3)!.sampleIds[0]!;
    expect(ids({ qc: true, search: sample })).toEqual([[3, true]]);
    expect(ids({ qc: false, search: sample })).toEqual([]);
  });

  it('finds QC messages through their own index, not by reading all history', () => {
    const plans = (filter: object) => storeTestHooks(store).explainMessageQuery(filter).join(' ');
    expect(plans({ qc: true })).toContain('messages_with_qc');
  });

  it('refuses a QC mark that is not true or false', () => {
    const message = withQc(1, []);
    const bad = {
      ...message,
      results: [{ ...message.results[0]!, qc: 'yes' as unknown as boolean }],
    };
    expect(() => store.insertMessages([bad])).toThrow(StoreError);
  });
});
