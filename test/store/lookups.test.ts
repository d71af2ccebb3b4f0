/**
 * The ID lookups and resend keys filed after the acknowledging commit (lookups.ts): found before
 * they are filed, filed by the side work, caught up on open after a crash, and converted in place
 * from a database written before they moved out of the commit.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type NewMessage, type Store } from '../../src-main/store';
import { prepareMessage } from '../../src-main/store/prepare';
import { migrate, registerSchemaFunctions, SCHEMA_VERSION } from '../../src-main/store/schema';
import { hl7Message, storeSandbox, T0 } from './fixtures';

/** The version before the lookups moved out of the commit. */
const LOOKUPS_VERSION = 11;

let sandbox: ReturnType<typeof storeSandbox>;
beforeEach(() => {
  sandbox = storeSandbox();
});
afterEach(() => sandbox.cleanup());

function one<T>(file: string, sql: string): T {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as T;
  } finally {
    db.close();
  }
}

const filedThrough = (file: string) =>
  one<number>(file, 'SELECT filed_through FROM lookup_progress');
const keysFiled = (file: string) => one<number>(file, 'SELECT count(*) FROM message_dedupe');

/** Every page of a query, `limit` at a time. */
function allPages(store: Store, filter: Parameters<Store['queryMessages']>[0]): number[] {
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const page = store.queryMessages({ ...filter, cursor, limit: 4 });
    ids.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return ids;
}

describe('lookups filed after the commit', () => {
  it('detects a resend before its first copy is filed, and after', async () => {
    const file = sandbox.file();
    const store = sandbox.open({ file, queue: { sideFlushMs: 60_000 } });
    const first = await store.enqueue(hl7Message(1, { dedupeKey: 'K1' }));
    expect(keysFiled(file)).toBe(0);
    await expect(store.enqueue(hl7Message(1, { dedupeKey: 'K1' }))).resolves.toEqual({
      id: first.id,
      duplicate: true,
    });
    // Another instrument's message with the same key is its own.
    const other = await store.enqueue(hl7Message(1, { dedupeKey: 'K1', instrumentId: 'chem2' }));
    expect(other.duplicate).toBe(false);
    store.flush();
    expect(keysFiled(file)).toBe(2);
    await expect(store.enqueue(hl7Message(1, { dedupeKey: 'K1' }))).resolves.toEqual({
      id: first.id,
      duplicate: true,
    });
    expect(store.counts().messages).toBe(2);
  });

  it('pages by sample ID, patient ID and instrument across filed and unfiled messages, in order', () => {
    const file = sandbox.file();
    const store = sandbox.open({ file, queue: { sideFlushMs: 60_000 } });
    // Times out of ID order, so that the two parts interleave.
    const times = [5, 1, 9, 3, 7, 2, 8, 4, 6, 0, 10, 11];
    const messages = times.map((t, n) =>
      hl7Message(n, {
        sampleId: 'SX-1',
        patientId: n % 2 ? 'PX-1' : 'PX-2',
        receivedAt: T0 + t * 1000,
      }),
    );
    store.insertMessages(messages.slice(0, 6));
    store.flush();
    store.insertMessages(messages.slice(6));
    expect(filedThrough(file)).toBe(6);

    const reader = openStore({ file, readonly: true });
    try {
      const byTime = (ids: number[], sign: number) =>
        [...ids].sort((a, b) => sign * (times[a - 1]! - times[b - 1]!));
      const all = times.map((_, i) => i + 1);
      const odd = all.filter((id) => id % 2 === 0);
      for (const order of ['asc', 'desc'] as const) {
        const sign = order === 'asc' ? 1 : -1;
        // Sample IDs are matched without regard to case, as the lookup table's collation does.
        expect(allPages(reader, { sampleId: 'sx-1', order })).toEqual(byTime(all, sign));
        expect(allPages(reader, { patientId: 'PX-1', order })).toEqual(byTime(odd, sign));
        expect(allPages(reader, { sampleId: 'SX-1', patientId: 'PX-1', order })).toEqual(
          byTime(odd, sign),
        );
        expect(allPages(reader, { sampleId: 'SX-1', search: 'glucose', order })).toEqual(
          byTime(all, sign),
        );
        expect(allPages(reader, { instrumentId: 'hema1', order })).toEqual(byTime(all, sign));
        expect(allPages(reader, { order })).toEqual(byTime(all, sign));
        // A search the index cannot narrow down reads history by time, the tail in its place.
        expect(allPages(reader, { search: '5.1', order })).toEqual(byTime(all, sign));
        expect(allPages(reader, { search: '5.1', instrumentId: 'hema1', order })).toEqual(
          byTime(all, sign),
        );
        expect(allPages(reader, { instrumentId: 'hema1', from: T0 + 2000, order })).toEqual(
          byTime(
            all.filter((id) => times[id - 1]! >= 2),
            sign,
          ),
        );
      }
      expect(reader.messageInstrumentIds()).toEqual(['hema1']);
      store.insertMessages([hl7Message(99, { instrumentId: 'chem0' })]);
      expect(reader.messageInstrumentIds()).toEqual(['chem0', 'hema1']);
      expect(allPages(reader, { instrumentId: 'chem0' })).toEqual([13]);
      const before = allPages(reader, { sampleId: 'SX-1' });
      store.flush();
      expect(filedThrough(file)).toBe(13);
      expect(reader.messageInstrumentIds()).toEqual(['chem0', 'hema1']);
      expect(allPages(reader, { sampleId: 'SX-1' })).toEqual(before);
    } finally {
      reader.close();
    }
  });

  it('files what a crash left unfiled when the database is opened again', async () => {
    const file = sandbox.file();
    const store = sandbox.open({ file, queue: { sideFlushMs: 60_000 } });
    const outcomes = await Promise.all(
      [1, 2, 3].map((n) => store.enqueue(hl7Message(n, { dedupeKey: `K${n}` }))),
    );
    expect(filedThrough(file)).toBe(0);
    // A second writer opening the file is what a restart after a kill sees.
    const again = sandbox.open({ file });
    expect(filedThrough(file)).toBe(3);
    expect(again.counts()).toMatchObject({ sampleKeys: 3, patientKeys: 3 });
    expect(keysFiled(file)).toBe(3);
    const resent = await again.enqueue(hl7Message(2, { dedupeKey: 'K2' }));
    expect(resent).toEqual({ id: outcomes[1]!.id, duplicate: true });
  });

  it('files a message whose ID was handed out again after the newest were purged', () => {
    const file = sandbox.file();
    const store = sandbox.open({ file });
    store.insertMessages([
      hl7Message(1, { receivedAt: T0 }),
      hl7Message(2, { receivedAt: T0 - 10_000, dedupeKey: 'K2' }),
    ]);
    store.flush();
    expect(store.purge({ messagesBefore: T0 - 1, traceBefore: 0 }).messages).toBe(1);
    expect(keysFiled(file)).toBe(0);
    const [again] = store.insertMessages([hl7Message(3, { receivedAt: T0 + 1, dedupeKey: 'K2' })]);
    expect(again).toEqual({ id: 2, duplicate: false });
    expect(store.queryMessages({ sampleId: hl7Message(3).results[0]!.sampleId! }).items).toEqual([
      expect.objectContaining({ id: 2 }),
    ]);
    store.flush();
    expect(store.counts()).toMatchObject({ messages: 2, sampleKeys: 2, patientKeys: 2 });
    expect(keysFiled(file)).toBe(1);
  });

  it('purges and counts traffic of messages not filed yet', () => {
    const file = sandbox.file();
    const store = sandbox.open({ file, queue: { sideFlushMs: 60_000 } });
    const old = [0, 1, 2].map((n) => hl7Message(n, { receivedAt: T0 - 10_000 + n }));
    const recent = [3, 4].map((n) => hl7Message(n, { receivedAt: T0 + n }));
    store.insertMessages([old[0]!, recent[0]!]);
    store.flush();
    store.insertMessages([old[1]!, recent[1]!, old[2]!]);
    expect(filedThrough(file)).toBe(2);
    const reader = openStore({ file, readonly: true });
    try {
      const traffic = reader.stats({ since: T0 - 20_000, until: T0 + 10_000, bucketMs: 10_000 });
      expect(traffic.instruments).toEqual([
        expect.objectContaining({ instrumentId: 'hema1', in: [0, 3, 2] }),
      ]);
      expect(reader.stats({ since: T0, bucketMs: 1000, dayStart: T0 }).instruments).toEqual([
        expect.objectContaining({ today: { in: 2, out: 0, byStatus: { stored: 2 } } }),
      ]);
    } finally {
      reader.close();
    }
    const steps = [store.purge({ messagesBefore: T0, traceBefore: 0, batchSize: 2 })];
    steps.push(store.purge({ messagesBefore: T0, traceBefore: 0, batchSize: 2 }));
    expect(steps.map((step) => step.messages)).toEqual([2, 1]);
    expect(store.queryMessages({ order: 'asc' }).items.map((m) => m.receivedAt)).toEqual([
      T0 + 3,
      T0 + 4,
    ]);
  });

  it('keeps the resend check short during a long run of commits without side work', () => {
    const file = sandbox.file();
    const store = sandbox.open({ file, queue: { sideFlushMs: 60_000 } });
    for (let n = 0; n < 600; n++) store.insertMessages([hl7Message(n, { dedupeKey: `K${n}` })]);
    // Filed in steps as the tail reaches its bound, not left to grow with every commit.
    expect(600 - filedThrough(file)).toBeLessThan(256);
    expect(store.insertMessages([hl7Message(5, { dedupeKey: 'K5' })])).toEqual([
      { id: 6, duplicate: true },
    ]);
    // In one transaction: a resend of a filed message, of an unfiled one, and of its own.
    expect(
      store.insertMessages([
        hl7Message(700, { dedupeKey: 'K700' }),
        hl7Message(5, { dedupeKey: 'K5' }),
        hl7Message(599, { dedupeKey: 'K599' }),
        hl7Message(700, { dedupeKey: 'K700' }),
      ]),
    ).toEqual([
      { id: 601, duplicate: false },
      { id: 6, duplicate: true },
      { id: 600, duplicate: true },
      { id: 601, duplicate: true },
    ]);
  });
});

describe('upgrading a database whose commits filed the lookups', () => {
  it('keeps every lookup and resend key, converted in place', async () => {
    const file = sandbox.file('v10.sqlite');
    const messages: NewMessage[] = Array.from({ length: 300 }, (_, n) =>
      hl7Message(n, {
        dedupeKey: n % 3 === 0 ? undefined : `K${n}`,
        instrumentId: n % 2 ? 'hema1' : 'chem1',
        sampleId: n % 10 === 0 ? 'SHARED-1' : undefined,
      }),
    );
    // As the previous version wrote them: its insert, its trigger deriving the lookups.
    const db = new Database(file);
    try {
      registerSchemaFunctions(db);
      db.pragma('journal_mode = WAL');
      migrate(db, LOOKUPS_VERSION - 1);
      const insert = db.prepare(
        `INSERT INTO messages (instrument_id, protocol, direction, received_at, status, ack,
           control_id, dedupe_key, result_count, error_count, sample_ids, patient_ids, test_codes,
           errors, text, text_is_raw, raw, raw_size, results, results_packed, qc, profile)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      db.transaction(() => {
        for (const m of messages) {
          const row = prepareMessage(m);
          insert.run(
            row.instrumentId,
            row.protocol,
            row.direction,
            row.receivedAt,
            row.status,
            row.ack,
            row.controlId,
            row.dedupeKey,
            row.resultCount,
            row.errorCount,
            row.sampleIdsJson,
            row.patientIdsJson,
            row.testCodesJson,
            row.errorsJson,
            row.textColumn,
            row.textIsRaw,
            row.raw,
            row.rawSize,
            row.storedResults.json,
            row.storedResults.packed,
            row.qc ? 1 : 0,
            row.profile,
          );
        }
      })();
      expect(db.prepare('SELECT count(*) FROM message_samples').pluck().get()).toBe(300);
    } finally {
      db.close();
    }

    const store = sandbox.open({ file, queue: { sideFlushMs: 20 } });
    expect(store.settings().schemaVersion).toBe(SCHEMA_VERSION);
    expect(filedThrough(file)).toBe(300);
    expect(keysFiled(file)).toBe(200);
    expect(
      one<number>(
        file,
        `SELECT count(*) FROM sqlite_schema
         WHERE name IN ('messages_dedupe', 'messages_derive', 'messages_by_instrument',
           'messages_by_time')`,
      ),
    ).toBe(0);
    expect(store.counts()).toMatchObject({ messages: 300, sampleKeys: 300, patientKeys: 300 });
    expect(one<number>(file, 'SELECT count(*) FROM message_instruments')).toBe(300);
    expect(one<number>(file, 'SELECT count(*) FROM message_times')).toBe(300);
    const latest = store.queryMessages({ limit: 3 }).items;
    expect(latest.map((m) => m.id)).toEqual([300, 299, 298]);
    const chem = store.queryMessages({ instrumentId: 'chem1', order: 'asc', limit: 1000 }).items;
    expect(chem.map((m) => m.id)).toEqual(Array.from({ length: 150 }, (_, i) => i * 2 + 1));
    const shared = store.queryMessages({ sampleId: 'SHARED-1', order: 'asc' }).items;
    expect(shared.map((m) => m.id)).toEqual(Array.from({ length: 30 }, (_, i) => i * 10 + 1));

    // Resends of messages stored before the upgrade are still recognised.
    await expect(store.enqueue(messages[7]!)).resolves.toEqual({ id: 8, duplicate: true });
    await expect(store.enqueue(messages[8]!)).resolves.toEqual({ id: 9, duplicate: true });
    const fresh = await store.enqueue(hl7Message(1000, { sampleId: 'SHARED-1', dedupeKey: 'KN' }));
    expect(fresh).toEqual({ id: 301, duplicate: false });
    expect(store.queryMessages({ sampleId: 'SHARED-1' }).items[0]!.id).toBe(301);
    await vi.waitFor(() => expect(filedThrough(file)).toBe(301), { timeout: 2000, interval: 5 });
    expect(keysFiled(file)).toBe(201);

    // Purging takes the keys with the messages: a resend of a purged message is stored anew.
    const purged = store.purge({ messagesBefore: messages[100]!.receivedAt, traceBefore: 0 });
    expect(purged.messages).toBe(100);
    expect(keysFiled(file)).toBe(201 - 66);
    await expect(store.enqueue(messages[8]!)).resolves.toMatchObject({ duplicate: false });
  });
});
