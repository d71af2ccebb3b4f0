import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Result } from '../../src-shared/results';
import { StoreError, type NewMessage, type Store } from '../../src-main/store';
import { astmMessage, hl7Message, storeSandbox, T0 } from './fixtures';

let sandbox: ReturnType<typeof storeSandbox>;
let store: Store;
beforeEach(() => {
  sandbox = storeSandbox();
  store = sandbox.open();
});
afterEach(() => sandbox.cleanup());

function thrown(run: () => unknown): StoreError {
  try {
    run();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError');
}

describe('storing messages', () => {
  it('gives back exactly what was stored: raw bytes, text, results in order, errors', () => {
    const raw = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    const results: Result[] = ['GLU', 'NA', 'K', 'CL'].map((testCode, i) => ({
      sampleId: '11625',
      patientId: 'PAT-9',
      testCode,
      value: String(i + 0.5),
      units: i === 2 ? null : 'mmol/L',
      flags: i === 1 ? 'H' : null,
      status: 'F',
      observedAt: '2026-11-26T10:15:00',
    }));
    const message: NewMessage = {
      instrumentId: 'chem1',
      protocol: 'astm',
      direction: 'in',
      receivedAt: T0,
      controlId: 'C-1',
      text: 'H|\\^&\rP|1||PAT-9\rO|1|11625^CL-PL-24-0370^1\rR|1|^^^GLU|0.5\rL|1|N',
      raw,
      ack: 'ACK',
      status: 'error',
      errors: [{ code: 'ASTM_BAD_CHECKSUM', message: 'frame 3: checksum expected 3A, got 3B' }],
      results,
    };
    const [outcome] = store.insertMessages([message]);
    expect(outcome).toEqual({ id: expect.any(Number), duplicate: false });
    const detail = store.getMessage(outcome!.id);
    expect(detail).toMatchObject({
      id: outcome!.id,
      instrumentId: 'chem1',
      protocol: 'astm',
      direction: 'in',
      receivedAt: T0,
      controlId: 'C-1',
      text: message.text,
      ack: 'ACK',
      status: 'error',
      errors: message.errors,
      results,
      sampleIds: ['11625'],
      patientIds: ['PAT-9'],
      testCodes: ['GLU', 'NA', 'K', 'CL'],
      resultCount: 4,
      errorCount: 1,
      size: 512,
      dedupeKey: null,
    });
    expect(Buffer.compare(detail!.raw, raw)).toBe(0);
    expect(detail!.preview).toBe(message.text);
  });

  it('keeps the order of many results', () => {
    const message = astmMessage(1, { results: 40 });
    const [outcome] = store.insertMessages([message]);
    expect(store.getMessage(outcome!.id)!.results).toEqual(
      message.results.map((result) => ({ ...result, qc: false })),
    );
  });

  it('returns null for a message that does not exist', () => {
    expect(store.getMessage(12345)).toBeNull();
  });

  it('keeps sample and patient IDs given besides the results, without duplicates', () => {
    const [outcome] = store.insertMessages([
      {
        ...hl7Message(1, { sampleId: 'S-1', patientId: 'P-1', results: 2 }),
        sampleIds: ['S-0', ' S-1 ', ''],
        patientIds: ['P-1'],
      },
    ]);
    const detail = store.getMessage(outcome!.id)!;
    expect(detail.sampleIds).toEqual(['S-0', 'S-1']);
    expect(detail.patientIds).toEqual(['P-1']);
    expect(store.queryMessages({ sampleId: 'S-0' }).items.map((m) => m.id)).toEqual([outcome!.id]);
  });

  it('copies the raw bytes, so a caller may reuse its buffer', async () => {
    const message = hl7Message(1);
    const raw = Buffer.from(message.raw);
    const pending = store.enqueue({ ...message, raw });
    raw.fill(0);
    const { id } = await pending;
    expect(Buffer.compare(store.getMessage(id)!.raw, Buffer.from(message.raw))).toBe(0);
  });

  it('stores a batch in one transaction and hands out ids in order', () => {
    const before = store.metrics().writeTransactions;
    const outcomes = store.insertMessages([hl7Message(1), astmMessage(2), hl7Message(3)]);
    expect(store.metrics().writeTransactions).toBe(before + 1);
    expect(outcomes.map((o) => o.duplicate)).toEqual([false, false, false]);
    expect(outcomes[1]!.id).toBe(outcomes[0]!.id + 1);
    expect(store.counts()).toMatchObject({ messages: 3, results: 30 });
  });

  it('refuses a malformed message in plain words and stores nothing of its batch', () => {
    const bad = { ...hl7Message(2), protocol: 'x12' } as unknown as NewMessage;
    const error = thrown(() => store.insertMessages([hl7Message(1), bad]));
    expect(error.code).toBe('STORE_INVALID');
    expect(error.message).toBe('cannot store this: protocol must be one of astm, hl7');
    for (const broken of [
      { ...hl7Message(3), receivedAt: 1.5 },
      { ...hl7Message(3), instrumentId: '' },
      { ...hl7Message(3), raw: 'text' },
      { ...hl7Message(3), results: [{ ...hl7Message(3).results[0], value: 5 }] },
      { ...hl7Message(3), errors: [{ code: 'X' }] },
    ]) {
      expect(thrown(() => store.insertMessages([broken as unknown as NewMessage])).code).toBe(
        'STORE_INVALID',
      );
    }
    expect(store.counts().messages).toBe(0);
  });

  it('stores a resent message once: same instrument and dedupe key give the first id', () => {
    const first = hl7Message(1, { dedupeKey: 'MSG1:abc' });
    const [a] = store.insertMessages([first]);
    const [b, c] = store.insertMessages([
      hl7Message(1, { dedupeKey: 'MSG1:abc', receivedAt: T0 + 60_000 }),
      hl7Message(1, { dedupeKey: 'MSG1:abc', instrumentId: 'other' }),
    ]);
    expect(b).toEqual({ id: a!.id, duplicate: true });
    expect(c!.duplicate).toBe(false);
    const [d, e] = store.insertMessages([
      hl7Message(5, { dedupeKey: 'k5' }),
      hl7Message(5, { dedupeKey: 'k5' }),
    ]);
    expect(e).toEqual({ id: d!.id, duplicate: true });
    expect(store.counts().messages).toBe(3);
    expect(store.metrics().duplicates).toBe(2);
  });

  it('records the outcome of a message later without touching what was received', () => {
    const [outcome] = store.insertMessages([
      { ...hl7Message(1), direction: 'out', status: 'pending', ack: null },
    ]);
    expect(
      store.updateMessageOutcome(outcome!.id, {
        status: 'failed',
        ack: 'AE',
        errors: [{ code: 'HL7_ACK_REJECTED', message: 'the instrument answered AE' }],
      }),
    ).toBe(true);
    expect(store.getMessage(outcome!.id)).toMatchObject({
      status: 'failed',
      ack: 'AE',
      errorCount: 1,
      text: hl7Message(1).text,
    });
    expect(store.updateMessageOutcome(outcome!.id, { status: 'sent' })).toBe(true);
    expect(store.getMessage(outcome!.id)).toMatchObject({ status: 'sent', ack: 'AE' });
    expect(store.updateMessageOutcome(999, { status: 'sent' })).toBe(false);
  });
});

describe('the messages command', () => {
  it('prints the contract shape, newest first, with ISO times and results', () => {
    store.insertMessages([hl7Message(1), astmMessage(2), hl7Message(3, { instrumentId: 'hema2' })]);
    const printed = [...store.messagesForCli()];
    expect(printed.map((m) => m.receivedAt)).toEqual([
      new Date(T0 + 3000).toISOString(),
      new Date(T0 + 2000).toISOString(),
      new Date(T0 + 1000).toISOString(),
    ]);
    const astm = printed[1]!;
    expect(astm).toMatchObject({
      instrumentId: 'chem1',
      protocol: 'astm',
      direction: 'in',
      text: astmMessage(2).text,
      results: astmMessage(2).results,
    });
    expect(Object.keys(astm)).toEqual(
      expect.arrayContaining([
        'id',
        'instrumentId',
        'protocol',
        'direction',
        'receivedAt',
        'text',
        'results',
      ]),
    );
    expect([...store.messagesForCli({ instrumentId: 'hema2' })].map((m) => m.instrumentId)).toEqual(
      ['hema2'],
    );
    expect([...store.messagesForCli({ limit: 2 })]).toHaveLength(2);
    expect([
      ...store.messagesForCli({ search: astmMessage(2).results[0]!.sampleId! }),
    ]).toHaveLength(1);
  });

  it('pages through any number of messages', () => {
    store.insertMessages(Array.from({ length: 1203 }, (_, n) => hl7Message(n, { results: 1 })));
    const ids = [...store.messagesForCli()].map((m) => m.id);
    expect(ids).toHaveLength(1203);
    expect(new Set(ids).size).toBe(1203);
    expect([...store.messagesForCli({ limit: 700 })]).toHaveLength(700);
  });
});

describe('traffic figures', () => {
  it('counts messages per instrument, direction and bucket, and today by status', () => {
    const at = (minute: number) => T0 + minute * 60_000;
    store.insertMessages([
      hl7Message(1, { instrumentId: 'a', receivedAt: at(0) }),
      hl7Message(2, { instrumentId: 'a', receivedAt: at(0) + 10 }),
      { ...hl7Message(3, { instrumentId: 'a', receivedAt: at(5) }), direction: 'out' },
      { ...astmMessage(4, { instrumentId: 'b', receivedAt: at(59) }), status: 'error' },
      astmMessage(5, { instrumentId: 'b', receivedAt: at(-120) }),
    ]);
    const stats = store.stats({
      since: at(0),
      bucketMs: 60_000,
      until: at(60),
      dayStart: at(-180),
    });
    expect(stats.bucketCount).toBe(60);
    const [a, b] = stats.instruments;
    expect(a!.instrumentId).toBe('a');
    expect(a!.in[0]).toBe(2);
    expect(a!.out[5]).toBe(1);
    expect(a!.in.reduce((x, y) => x + y)).toBe(2);
    expect(a!.today).toEqual({ in: 2, out: 1, byStatus: { stored: 3 } });
    expect(b!.in[59]).toBe(1);
    expect(b!.today).toEqual({ in: 2, out: 0, byStatus: { error: 1, stored: 1 } });
  });
});
