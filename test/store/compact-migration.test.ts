/**
 * Messages written by the schema before the compact forms (version 5: the text stored beside the
 * bytes, a results row per result) are read as written right after the upgrade, converted in
 * place by the side work a batch at a time, and read the same afterwards: text, bytes, results,
 * searches, ID lookups, retention.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStore, type NewMessage, type Store } from '../../src-main/store';
import { FRAMES_TEXT } from '../../src-main/store/compact';
import { migrate, registerSchemaFunctions, SCHEMA_VERSION } from '../../src-main/store/schema';
import { storeTestHooks } from '../../src-main/store/store';
import { astmMessage, hl7Message, storeSandbox, T0 } from './fixtures';

/** The version the compact forms came with. */
const COMPACT_VERSION = 7;

let sandbox: ReturnType<typeof storeSandbox>;
beforeEach(() => {
  sandbox = storeSandbox();
});
afterEach(() => sandbox.cleanup());

/** As the gateway's HL7 handler stores it: the payload without MLLP framing. */
function unframed(message: NewMessage): NewMessage {
  return { ...message, raw: Buffer.from(`${message.text}\r`, 'utf8') };
}

function corpus(): NewMessage[] {
  return Array.from({ length: 450 }, (_, n) => {
    const at = { receivedAt: T0 + n * 1000 };
    if (n % 3 === 0) return astmMessage(n, at);
    // Some with non-ASCII text in UTF-8 bytes, some framed (text and bytes differ).
    if (n % 3 === 1) return unframed(hl7Message(n, { ...at, patientId: `PÄ${n}` }));
    return hl7Message(n, at);
  });
}

const distinct = (values: (string | null)[]) => [
  ...new Set(values.map((v) => v?.trim()).filter((v): v is string => !!v)),
];

/** What the version-5 store wrote for a message: its row, its results, its search document. */
function writeAsVersion5(file: string, messages: NewMessage[], indexThrough: number): void {
  const db = new Database(file);
  try {
    registerSchemaFunctions(db);
    db.pragma('journal_mode = WAL');
    migrate(db, COMPACT_VERSION - 1);
    expect(db.pragma('user_version', { simple: true })).toBe(COMPACT_VERSION - 1);
    const insert = db.prepare(
      `INSERT INTO messages (instrument_id, protocol, direction, received_at, status, ack,
         control_id, dedupe_key, result_count, error_count, sample_ids, patient_ids, test_codes,
         errors, text, raw, qc, profile)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)`,
    );
    const result = db.prepare(
      `INSERT INTO results (message_id, seq, sample_id, patient_id, test_code, value, units,
         flags, status, observed_at, qc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
    );
    // The version-5 document: every word of the text, repeats included.
    const index = db.prepare('INSERT INTO message_search (rowid, document) VALUES (?, ?)');
    db.transaction(() => {
      for (const m of messages) {
        const samples = distinct(m.results.map((r) => r.sampleId ?? null));
        const patients = distinct(m.results.map((r) => r.patientId ?? null));
        const codes = distinct(m.results.map((r) => r.testCode ?? null));
        const id = Number(
          insert.run(
            m.instrumentId,
            m.protocol,
            m.direction,
            m.receivedAt,
            m.status,
            m.ack ?? null,
            m.controlId ?? null,
            m.dedupeKey ?? null,
            m.results.length,
            0,
            JSON.stringify(samples),
            JSON.stringify(patients),
            JSON.stringify(codes),
            '[]',
            m.text,
            m.raw,
          ).lastInsertRowid,
        );
        m.results.forEach((r, seq) =>
          result.run(
            id,
            seq,
            r.sampleId ?? null,
            r.patientId ?? null,
            r.testCode ?? null,
            r.value ?? null,
            r.units ?? null,
            r.flags ?? null,
            r.status ?? null,
            r.observedAt ?? null,
          ),
        );
        if (id <= indexThrough) {
          const ids = [...samples, ...patients, ...codes, ...(m.controlId ? [m.controlId] : [])];
          const words = m.text.replace(/[^\p{L}\p{N}\p{Co}]+/gu, ' ');
          const parts = [...samples, ...patients].flatMap((id) => {
            const out: string[] = [];
            for (const token of id.match(/[\p{L}\p{N}\p{Co}]+/gu) ?? []) {
              for (let a = 0; a + 3 <= token.length; a++) {
                for (let b = a + 3; b <= token.length; b++) out.push(token.slice(a, b));
              }
            }
            return out;
          });
          index.run(id, `${words} ${[...ids, ...parts].join(' ')}`);
        }
      }
      db.prepare('UPDATE search_progress SET indexed_through = ?').run(indexThrough);
    })();
  } finally {
    db.close();
  }
}

function columns(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    registerSchemaFunctions(db);
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

function expectAsStored(store: Store, messages: NewMessage[]): void {
  messages.forEach((m, i) => {
    const detail = store.getMessage(i + 1)!;
    expect(detail.text).toBe(m.text);
    expect(Buffer.compare(detail.raw, Buffer.from(m.raw))).toBe(0);
    expect(detail.results).toEqual(
      m.results.map((r) => ({
        sampleId: r.sampleId ?? null,
        patientId: r.patientId ?? null,
        testCode: r.testCode ?? null,
        value: r.value ?? null,
        units: r.units ?? null,
        flags: r.flags ?? null,
        status: r.status ?? null,
        observedAt: r.observedAt ?? null,
        qc: false,
      })),
    );
    expect(detail.size).toBe(m.raw.length);
  });
}

describe('upgrading a database written before the compact forms', () => {
  it('reads old messages at once, converts them in batches, and reads them the same after', async () => {
    const messages = corpus();
    const file = sandbox.file('v5.sqlite');
    writeAsVersion5(file, messages, 300);

    const store = openStore({ file, queue: { sideFlushMs: 20 } });
    expect(store.settings().schemaVersion).toBe(SCHEMA_VERSION);
    // The upgrade rewrites no message; the side work has converted a batch at most (with the
    // indexing on open), so both forms are read below.
    const [waiting] = columns(file, 'SELECT count(*) AS n FROM messages WHERE results IS NULL');
    expect((waiting as { n: number }).n).toBeGreaterThanOrEqual(450 - 200);
    expectAsStored(store, messages);
    const searches = ['glucose', 'PÄ4', messages[200]!.controlId!, 'mmol/L'];
    const before = searches.map((s) => store.queryMessages({ search: s, limit: 1000 }).items);
    const bySample = store.queryMessages({ sampleId: messages[10]!.results[0]!.sampleId! });

    await vi.waitFor(
      () => expect(columns(file, 'SELECT count(*) AS n FROM compact_progress')).toEqual([{ n: 0 }]),
      { timeout: 10_000, interval: 20 },
    );
    expect(columns(file, 'SELECT count(*) AS n FROM messages WHERE results IS NULL')).toEqual([
      { n: 0 },
    ]);
    expect(columns(file, 'SELECT count(*) AS n FROM results')).toEqual([{ n: 0 }]);
    // The UTF-8 HL7 payloads and the ASTM sessions (text read from their frames) lost their
    // second copy; MLLP-framed bytes kept theirs.
    expect(
      columns(
        file,
        `SELECT protocol, text_is_raw, text, count(*) AS n FROM messages
         WHERE text_is_raw = 1 OR protocol = 'astm' GROUP BY 1, 2, 3 ORDER BY 1`,
      ),
    ).toEqual([
      { protocol: 'astm', text_is_raw: 1, text: FRAMES_TEXT, n: 150 },
      { protocol: 'hl7', text_is_raw: 1, text: '', n: 150 },
    ]);

    expectAsStored(store, messages);
    expect(searches.map((s) => store.queryMessages({ search: s, limit: 1000 }).items)).toEqual(
      before,
    );
    expect(store.queryMessages({ sampleId: messages[10]!.results[0]!.sampleId! })).toEqual(
      bySample,
    );
    expect(store.counts()).toMatchObject({ messages: 450, results: 450 * 10 });
    expect([...store.messagesForCli({ limit: 5 })].map((m) => m.text)).toEqual(
      messages
        .slice(-5)
        .reverse()
        .map((m) => m.text),
    );

    // A converted message is as immutable as before.
    const db = new Database(file);
    registerSchemaFunctions(db);
    expect(() => db.prepare("UPDATE messages SET text = 'x' WHERE id = 2").run()).toThrow(
      /cannot be changed/,
    );
    expect(() => db.prepare("UPDATE messages SET results = '[]' WHERE id = 2").run()).toThrow(
      /cannot be changed/,
    );
    db.close();

    // Purged messages leave nothing in the search index, whichever document indexed them.
    const purged = store.purge({ messagesBefore: T0 + 450_000, traceBefore: T0, batchSize: 1000 });
    expect(purged.messages).toBe(450);
    expect(storeTestHooks(store).searchIndexCandidates('glucose')).toEqual([]);
    expect(storeTestHooks(store).searchIndexCandidates('PÄ4')).toEqual([]);
    store.close();
  });

  it('goes on converting after a kill in the middle, losing and changing nothing', async () => {
    const messages = corpus();
    const file = sandbox.file('killed.sqlite');
    writeAsVersion5(file, messages, 450);
    const store = openStore({ file, queue: { sideFlushMs: 60_000 } });
    store.flush();
    // The files as a SIGKILL leaves them: one or two batches converted, the rest waiting.
    const copy = sandbox.file('restarted.sqlite');
    fs.copyFileSync(file, copy);
    fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
    store.close();
    const [waiting] = columns(copy, 'SELECT count(*) AS n FROM messages WHERE results IS NULL');
    expect((waiting as { n: number }).n).toBeGreaterThan(0);
    expect((waiting as { n: number }).n).toBeLessThan(450);

    const restarted = openStore({ file: copy, queue: { sideFlushMs: 20 } });
    await vi.waitFor(
      () => expect(columns(copy, 'SELECT count(*) AS n FROM compact_progress')).toEqual([{ n: 0 }]),
      { timeout: 10_000, interval: 20 },
    );
    expect(columns(copy, 'SELECT count(*) AS n FROM results')).toEqual([{ n: 0 }]);
    expectAsStored(restarted, messages);
    // The HL7 messages name their tests; ASTM records carry the codes only.
    expect(restarted.queryMessages({ search: 'glucose', limit: 1000 }).items).toHaveLength(300);
    restarted.close();
  });

  it('previews a message whose text is its bytes exactly as its text', () => {
    const store = sandbox.open();
    const texts = ['MSH|^~\\&|A', '', 'MSH|é'.padEnd(200, 'ü'), 'MSH|€'.padEnd(199, 'x'), 'x\r'];
    const base = hl7Message(1);
    const outcomes = store.insertMessages(
      texts.map((text, i) => ({
        ...base,
        controlId: `P${i}`,
        receivedAt: T0 + i,
        text,
        raw: Buffer.from(`${text}\r`, 'utf8'),
      })),
    );
    expect(
      columns(sandbox.file(), 'SELECT text_is_raw FROM messages ORDER BY id').map(
        (row) => (row as { text_is_raw: number }).text_is_raw,
      ),
    ).toEqual([1, 1, 1, 1, 1]);
    const previews = new Map(
      store.queryMessages({ limit: 10 }).items.map((m) => [m.id, m.preview]),
    );
    texts.forEach((text, i) => {
      expect(previews.get(outcomes[i]!.id)).toBe([...text].slice(0, 200).join(''));
    });
    store.close();
  });

  it('stores new messages compactly and finds them like before', async () => {
    const store = sandbox.open();
    const hl7 = unframed(hl7Message(1, { patientId: 'PÖ1' }));
    const astm = astmMessage(2);
    const framed = hl7Message(3);
    const outcomes = store.insertMessages([hl7, astm, framed]);
    expect(
      columns(sandbox.file(), 'SELECT id, text_is_raw, length(text) > 0 AS kept FROM messages'),
    ).toEqual([
      { id: 1, text_is_raw: 1, kept: 0 },
      { id: 2, text_is_raw: 1, kept: 1 },
      { id: 3, text_is_raw: 0, kept: 1 },
    ]);
    expect(columns(sandbox.file(), 'SELECT count(*) AS n FROM results')).toEqual([{ n: 0 }]);
    expectAsStored(store, [hl7, astm, framed]);
    expect(store.queryMessages({ search: 'PÖ1' }).items.map((m) => m.id)).toEqual([
      outcomes[0]!.id,
    ]);
    expect(store.queryMessages({ limit: 1 }).items[0]!.preview).toBe(framed.text.slice(0, 200));
    expect(store.queryMessages({ search: 'MSG00000001' }).items[0]!.preview).toBe(
      hl7.text.slice(0, 200),
    );
    store.close();
  });
});

describe('an ASTM message whose text is read from its frames', () => {
  it('reads, lists, previews, searches and forgets the same as one whose text is stored', () => {
    const store = sandbox.open();
    const base = astmMessage(1, { patientId: 'PÖ7' });
    const framed = { ...base, raw: Buffer.from(Buffer.from(base.raw).toString('latin1'), 'utf8') };
    // The same text, with bytes it cannot be read from (a stray STX after the last frame).
    const kept = {
      ...framed,
      instrumentId: 'chem2',
      receivedAt: base.receivedAt + 1,
      raw: Buffer.concat([framed.raw, Buffer.from('\x021x')]),
    };
    const [framesId, keptId] = store.insertMessages([framed, kept]).map((o) => o.id);
    expect(columns(sandbox.file(), 'SELECT id, text_is_raw, text FROM messages')).toEqual([
      { id: framesId, text_is_raw: 1, text: FRAMES_TEXT },
      { id: keptId, text_is_raw: 0, text: framed.text },
    ]);

    const a = store.getMessage(framesId!)!;
    const b = store.getMessage(keptId!)!;
    expect(a.text).toBe(framed.text);
    expect(Buffer.compare(a.raw, framed.raw)).toBe(0);
    const same = <T extends { id: number }>(m: T) => ({ ...m, id: 0, instrumentId: '', size: 0 });
    expect({ ...same(a), raw: null, receivedAt: 0 }).toEqual({
      ...same(b),
      raw: null,
      receivedAt: 0,
    });
    const summaries = store.queryMessages({ limit: 10 }).items;
    expect(summaries.map((m) => m.preview)).toEqual([
      framed.text.slice(0, 200),
      framed.text.slice(0, 200),
    ]);
    for (const search of ['PÖ7', 'cobas', '"L|1|N"', framed.results[3]!.value!, 'nothere']) {
      const found = store.queryMessages({ search }).items.map((m) => m.id);
      expect(found.sort()).toEqual(search === 'nothere' ? [] : [framesId, keptId].sort());
    }
    expect(
      [...store.messagesForCli({ limit: 2 })].map((m) => [m.id, m.text, m.results.length]),
    ).toEqual([
      [keptId, framed.text, 10],
      [framesId, framed.text, 10],
    ]);

    // Forgotten by the search index with the document it was indexed with.
    store.flush();
    expect(storeTestHooks(store).searchIndexCandidates('cobas').sort()).toEqual(
      [framesId, keptId].sort(),
    );
    store.purge({ messagesBefore: T0 + 1_000_000, traceBefore: T0, batchSize: 10 });
    expect(storeTestHooks(store).searchIndexCandidates('cobas')).toEqual([]);
    expect(storeTestHooks(store).searchIndexCandidates('PÖ7')).toEqual([]);
    store.close();
  });
});
