/**
 * A message's bytes are stored deflated when that pays (compact.ts packRaw, schema version 10):
 * every reader gives back the exact bytes and the same text, previews, sizes, searches and
 * purges as before; messages written by schema version 9 stay as they were and read the same.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Result, StoredResult } from '../../src-shared/results';
import { openStore, type NewMessage, type Store } from '../../src-main/store';
import {
  packRaw,
  resultsToJson,
  textColumns,
  unpackRaw,
  type StoredRaw,
} from '../../src-main/store/compact';
import { StoreError } from '../../src-main/store/errors';
import {
  migrate,
  registerSchemaFunctions,
  SCHEMA_VERSION,
  storedSearchDocument,
} from '../../src-main/store/schema';
import { storeTestHooks } from '../../src-main/store/store';
import { astmMessage, hl7Message, storeSandbox, T0 } from './fixtures';

/** The version that added raw_size. */
const PACKED_VERSION = 10;

let sandbox: ReturnType<typeof storeSandbox>;
beforeEach(() => {
  sandbox = storeSandbox();
});
afterEach(() => sandbox.cleanup());

/** Words of the text of each kind of message, a patient ID, part of a sample ID, a control ID. */
const SEARCHES = ['Glucose', 'PÄ1', '26000004', 'MSG00000002', 'cobas', 'T3', 'mmol/L', 'QZX'];

/** Messages of every shape the gateway stores: framed and not, UTF-8, Latin-1, tiny, noise. */
function corpus(from: number, count: number): NewMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    const at = { receivedAt: T0 + n * 1000 };
    switch (n % 5) {
      case 0:
        return astmMessage(n, at);
      case 1: {
        // As the HL7 handler stores it: the payload without MLLP framing, here in UTF-8.
        const m = hl7Message(n, { ...at, patientId: `PÄ${n}` });
        return { ...m, raw: Buffer.from(`${m.text}\r`, 'utf8') };
      }
      case 2:
        return hl7Message(n, at);
      case 3: {
        // Too short to deflate.
        const text = `MSH|^~\\&|A|||||||ACK|T${n}|P|2.5`;
        return { ...hl7Message(n, at), text, raw: Buffer.from(text), results: [] };
      }
      default: {
        // Bytes that do not deflate (whatever arrived), with a text of their own.
        const m = hl7Message(n, at);
        return { ...m, raw: Buffer.concat([Buffer.from(m.raw), randomBytes(8000)]) };
      }
    }
  });
}

function columns(file: string, sql: string): Record<string, unknown>[] {
  const db = new Database(file, { readonly: true });
  try {
    registerSchemaFunctions(db);
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

function expectAsStored(store: Store, messages: NewMessage[], ids: number[]): void {
  const previews = new Map(
    store.queryMessages({ limit: 1000 }).items.map((m) => [m.id, [m.preview, m.size]]),
  );
  const cli = new Map([...store.messagesForCli({})].map((m) => [m.id, m]));
  messages.forEach((m, i) => {
    const detail = store.getMessage(ids[i]!)!;
    const results = m.results.map(stored);
    expect(detail.text).toBe(m.text);
    expect(Buffer.compare(detail.raw, Buffer.from(m.raw))).toBe(0);
    expect(detail.size).toBe(m.raw.length);
    expect(detail.results).toEqual(results);
    expect(previews.get(ids[i]!)).toEqual([[...m.text].slice(0, 200).join(''), m.raw.length]);
    expect(cli.get(ids[i]!)).toMatchObject({ text: m.text, results });
  });
}

function stored(r: Result): StoredResult {
  return {
    sampleId: r.sampleId ?? null,
    patientId: r.patientId ?? null,
    testCode: r.testCode ?? null,
    value: r.value ?? null,
    units: r.units ?? null,
    flags: r.flags ?? null,
    status: r.status ?? null,
    observedAt: r.observedAt ?? null,
    qc: false,
  };
}

/** What the version-9 store wrote for messages: their rows and search documents. */
function writeAsVersion9(file: string, messages: NewMessage[]): void {
  const db = new Database(file);
  try {
    registerSchemaFunctions(db);
    db.pragma('journal_mode = WAL');
    migrate(db, PACKED_VERSION - 1);
    expect(db.pragma('user_version', { simple: true })).toBe(PACKED_VERSION - 1);
    const insert = db.prepare(
      `INSERT INTO messages (instrument_id, protocol, direction, received_at, status, ack,
         control_id, dedupe_key, result_count, error_count, sample_ids, patient_ids, test_codes,
         errors, text, text_is_raw, raw, results, qc, profile)
       VALUES (?, ?, ?, ?, 'stored', ?, ?, NULL, ?, 0, ?, ?, ?, '[]', ?, ?, ?, ?, 0, NULL)`,
    );
    const index = db.prepare('INSERT INTO message_search (rowid, document) VALUES (?, ?)');
    db.transaction(() => {
      for (const m of messages) {
        const samples = JSON.stringify([...new Set(m.results.map((r) => r.sampleId!))]);
        const patients = JSON.stringify([...new Set(m.results.map((r) => r.patientId!))]);
        const codes = JSON.stringify([...new Set(m.results.map((r) => r.testCode!))]);
        const raw = Buffer.from(m.raw);
        const text = textColumns(m.text, raw, m.protocol);
        const id = Number(
          insert.run(
            m.instrumentId,
            m.protocol,
            m.direction,
            m.receivedAt,
            m.ack ?? null,
            m.controlId ?? null,
            m.results.length,
            samples,
            patients,
            codes,
            text.text,
            text.isRaw,
            raw,
            resultsToJson(m.results.map(stored)),
          ).lastInsertRowid,
        );
        index.run(id, storedSearchDocument(m.text, samples, patients, codes, m.controlId ?? null));
      }
      db.prepare(
        'UPDATE search_progress SET indexed_through = (SELECT max(id) FROM messages)',
      ).run();
    })();
  } finally {
    db.close();
  }
}

describe('packRaw and unpackRaw', () => {
  it('give back exactly the bytes, deflated only when that saves an eighth', () => {
    const text = Buffer.from(hl7Message(1).text);
    const cases: [Buffer, boolean][] = [
      [Buffer.alloc(0), false],
      [Buffer.from('MSH|^~\\&|short'), false],
      [text, true],
      [randomBytes(4096), false],
      [Buffer.concat([text, randomBytes(text.length * 4)]), false],
      [Buffer.alloc(100_000, 'A'), true],
    ];
    for (const [bytes, packs] of cases) {
      const stored = packRaw(bytes);
      expect(stored.size !== null).toBe(packs);
      if (packs) {
        expect(stored.size).toBe(bytes.length);
        expect(stored.raw.length).toBeLessThanOrEqual(bytes.length * 0.875);
      } else expect(stored.raw).toBe(bytes);
      expect(Buffer.compare(unpackRaw(stored.raw, stored.size), bytes)).toBe(0);
    }
  });

  it('refuses damaged bytes with a coded error instead of reading something else', () => {
    const stored: StoredRaw = packRaw(Buffer.from(hl7Message(1).text));
    const size = stored.size!;
    const truncated = stored.raw.subarray(0, stored.raw.length >> 1);
    const flipped = Buffer.from(stored.raw);
    flipped[0] = flipped[0]! ^ 0xff;
    for (const [raw, n] of [
      [truncated, size],
      [flipped, size],
      [stored.raw, size - 1],
      [stored.raw, size + 1],
    ] as const) {
      let thrown: unknown;
      try {
        unpackRaw(raw, n);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(StoreError);
      expect((thrown as StoreError).code).toBe('STORE_CORRUPT');
    }
  });
});

describe('messages stored with their bytes deflated', () => {
  it('read, list, print, search and purge exactly like bytes stored as they are', () => {
    const store = sandbox.open();
    const messages = corpus(0, 50);
    const ids = store.insertMessages(messages).map((o) => o.id);
    const rows = columns(
      sandbox.file(),
      `SELECT id, raw_size, length(raw) AS stored, results IS NULL AS no_json,
         length(results_packed) AS packed FROM messages ORDER BY id`,
    );
    rows.forEach((row, i) => {
      const packs = i % 5 < 3;
      expect(row.raw_size).toBe(packs ? messages[i]!.raw.length : null);
      if (packs) expect(row.stored as number).toBeLessThan(messages[i]!.raw.length * 0.6);
      // Ten results deflate; none are JSON too short to.
      expect([row.no_json, row.packed !== null]).toEqual(i % 5 === 3 ? [0, false] : [1, true]);
    });
    expectAsStored(store, messages, ids);

    // Searches find what they find in the same messages stored as schema version 9 stored them.
    store.flush();
    const file = sandbox.file('v9.sqlite');
    writeAsVersion9(file, messages);
    const unpacked = openStore({ file });
    expect(columns(file, 'SELECT count(raw_size) AS n FROM messages')).toEqual([{ n: 0 }]);
    for (const word of SEARCHES) {
      const found = store.queryMessages({ search: word, limit: 1000 }).items;
      expect(found.length).toBeGreaterThan(word === 'QZX' ? -1 : 0);
      expect(found).toEqual(unpacked.queryMessages({ search: word, limit: 1000 }).items);
    }
    unpacked.close();

    const db = new Database(sandbox.file());
    registerSchemaFunctions(db);
    for (const change of ['raw_size = 1', "results_packed = x'00'", "results = '[]'"]) {
      expect(() => db.prepare(`UPDATE messages SET ${change} WHERE id = 1`).run()).toThrow(
        /cannot be changed/,
      );
    }
    db.close();

    expect(
      store.purge({ messagesBefore: T0 + 50_000, traceBefore: T0, batchSize: 1000 }),
    ).toMatchObject({ messages: 50 });
    for (const word of SEARCHES) {
      expect(storeTestHooks(store).searchIndexCandidates(word)).toEqual([]);
    }
  });
});

describe('upgrading a database written by schema version 9', () => {
  it('keeps its messages as written and reads them beside new ones, deflated', () => {
    const old = corpus(0, 40);
    const file = sandbox.file('v9.sqlite');
    writeAsVersion9(file, old);

    const store = openStore({ file });
    expect(store.settings().schemaVersion).toBe(SCHEMA_VERSION);
    const added = corpus(40, 40);
    const addedIds = store.insertMessages(added).map((o) => o.id);
    expect(
      columns(
        file,
        `SELECT id <= 40 AS old, count(raw_size) AS packed, count(results_packed) AS results
         FROM messages GROUP BY 1`,
      ),
    ).toEqual([
      { old: 0, packed: 24, results: 32 },
      { old: 1, packed: 0, results: 0 },
    ]);
    const all = [...old, ...added];
    expectAsStored(store, all, [...old.map((_, i) => i + 1), ...addedIds]);
    store.flush();
    const glucose = store.queryMessages({ search: 'glucose', limit: 1000 }).items;
    expect(glucose.length).toBe(all.filter((m) => /glucose/i.test(m.text)).length);
    expect(glucose.some((m) => m.id <= 40) && glucose.some((m) => m.id > 40)).toBe(true);

    // Purged, old and new leave nothing in the search index.
    expect(
      store.purge({ messagesBefore: T0 + 80_000, traceBefore: T0, batchSize: 1000 }),
    ).toMatchObject({ messages: 80 });
    expect(storeTestHooks(store).searchIndexCandidates('glucose')).toEqual([]);
    expect(storeTestHooks(store).searchIndexCandidates('PÄ41')).toEqual([]);
    store.close();
  });
});
