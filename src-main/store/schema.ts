import type Database from 'better-sqlite3';
import { StoreError } from './errors';
import { storedText, unpackRaw, unpackResults } from './compact';
import { searchDocument } from './search';

/**
 * Each migration moves the file from `user_version` N to N + 1 inside one transaction, so a file
 * is always at a version the code knows. Never edit a shipped migration; append one.
 */
const migrations: readonly string[] = [
  /* 1 */ `
  CREATE TABLE instruments (
    id TEXT PRIMARY KEY NOT NULL,
    config TEXT NOT NULL CHECK (json_valid(config)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  -- The JSON arrays of IDs and the text are what a search verifies against; raw comes last so
  -- that lists and searches never read it.
  -- instrument_id has no foreign key: history outlives an instrument removed from the setup.
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    instrument_id TEXT NOT NULL,
    protocol TEXT NOT NULL CHECK (protocol IN ('astm', 'hl7')),
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    received_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    ack TEXT,
    control_id TEXT,
    dedupe_key TEXT,
    result_count INTEGER NOT NULL,
    error_count INTEGER NOT NULL,
    sample_ids TEXT NOT NULL,
    patient_ids TEXT NOT NULL,
    test_codes TEXT NOT NULL,
    errors TEXT NOT NULL,
    text TEXT NOT NULL,
    raw BLOB NOT NULL
  ) STRICT;

  -- An index on (x) ends with the rowid, so each of these also orders by (received_at, id).
  CREATE INDEX messages_by_time ON messages (received_at);
  CREATE INDEX messages_by_instrument ON messages (instrument_id, received_at);
  -- Few messages have problems; the index stays small and a status filter does not scan history.
  CREATE INDEX messages_with_problems ON messages (status, received_at) WHERE status <> 'stored';
  CREATE UNIQUE INDEX messages_dedupe ON messages (instrument_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL;

  CREATE TABLE results (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    sample_id TEXT,
    patient_id TEXT,
    test_code TEXT,
    value TEXT,
    units TEXT,
    flags TEXT,
    status TEXT,
    observed_at TEXT,
    PRIMARY KEY (message_id, seq)
  ) STRICT, WITHOUT ROWID;

  -- Exact ID lookups, already in history order.
  CREATE TABLE message_samples (
    sample_id TEXT NOT NULL COLLATE NOCASE,
    received_at INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (sample_id, received_at, message_id)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE message_patients (
    patient_id TEXT NOT NULL COLLATE NOCASE,
    received_at INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (patient_id, received_at, message_id)
  ) STRICT, WITHOUT ROWID;

  -- The search index holds no copy of the text and no positions (detail=none), which keeps it
  -- small and cheap to write; a match is a candidate that the query then checks against the row.
  -- A message is indexed as searchDocument() of its text and IDs (see search.ts): the words of
  -- its text, IDs and test codes, and every part of every word of its sample and patient IDs, so
  -- that one MATCH of whole words finds both. The writer adds that
  -- document; the trigger below takes it away again, computed by the same function from the same
  -- immutable columns, as a contentless index forgets a row only when told exactly what it held.
  CREATE VIRTUAL TABLE message_search USING fts5 (
    document,
    content = '',
    columnsize = 0,
    detail = none,
    tokenize = 'unicode61 remove_diacritics 0'
  );

  -- The ID lookups are derived from the row itself, so that no code path can store a message
  -- without them or delete one and leave them behind.
  CREATE TRIGGER messages_derive AFTER INSERT ON messages BEGIN
    INSERT OR IGNORE INTO message_samples (sample_id, received_at, message_id)
      SELECT value, new.received_at, new.id FROM json_each(new.sample_ids);
    INSERT OR IGNORE INTO message_patients (patient_id, received_at, message_id)
      SELECT value, new.received_at, new.id FROM json_each(new.patient_ids);
  END;

  -- Most messages carry one sample and one patient ID: removing those directly costs a third of
  -- going through json_each, which is left to the few messages with more.
  CREATE TRIGGER messages_forget AFTER DELETE ON messages BEGIN
    DELETE FROM message_samples WHERE sample_id = old.sample_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    DELETE FROM message_patients WHERE patient_id = old.patient_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    INSERT INTO message_search (message_search, rowid, document) VALUES ('delete', old.id,
      search_document(old.text, old.sample_ids, old.patient_ids, old.test_codes, old.control_id));
  END;

  CREATE TRIGGER messages_forget_more AFTER DELETE ON messages
    WHEN json_array_length(old.sample_ids) > 1 OR json_array_length(old.patient_ids) > 1
  BEGIN
    DELETE FROM message_samples
      WHERE sample_id IN (SELECT value FROM json_each(old.sample_ids))
        AND received_at = old.received_at AND message_id = old.id;
    DELETE FROM message_patients
      WHERE patient_id IN (SELECT value FROM json_each(old.patient_ids))
        AND received_at = old.received_at AND message_id = old.id;
  END;

  -- A stored message is a record of what crossed the wire; only its outcome may change later.
  CREATE TRIGGER messages_immutable
    BEFORE UPDATE OF id, instrument_id, protocol, direction, received_at, control_id, dedupe_key,
      sample_ids, patient_ids, test_codes, text, raw, result_count ON messages
  BEGIN
    SELECT RAISE(ABORT, 'a stored message cannot be changed');
  END;

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    instrument_id TEXT,
    kind TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    code TEXT,
    message TEXT NOT NULL,
    data TEXT
  ) STRICT;
  CREATE INDEX events_by_time ON events (at);
  CREATE INDEX events_by_instrument ON events (instrument_id, at);

  CREATE TABLE trace (
    id INTEGER PRIMARY KEY,
    instrument_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    bytes BLOB NOT NULL
  ) STRICT;
  CREATE INDEX trace_by_instrument ON trace (instrument_id, at);
  CREATE INDEX trace_by_time ON trace (at);
  `,
  /* 2 */ `
  -- The search index is written after the commit that acknowledges a message, in batches, up to
  -- this message ID: everything above it is still to be indexed (also after a restart). A row
  -- above it was never indexed, and a contentless index must not be told to forget one.
  CREATE TABLE search_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
  ) STRICT;
  INSERT INTO search_progress (id, indexed_through) SELECT 1, coalesce(max(id), 0) FROM messages;

  DROP TRIGGER messages_forget;
  CREATE TRIGGER messages_forget AFTER DELETE ON messages BEGIN
    DELETE FROM message_samples WHERE sample_id = old.sample_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    DELETE FROM message_patients WHERE patient_id = old.patient_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    INSERT INTO message_search (message_search, rowid, document)
      SELECT 'delete', old.id, search_document(old.text, old.sample_ids, old.patient_ids,
        old.test_codes, old.control_id)
      FROM search_progress WHERE old.id <= indexed_through;
  END;

  -- Once the newest messages are purged, SQLite hands out their IDs again; the new rows are not
  -- indexed, and every row below them is.
  CREATE TRIGGER messages_reuse_id AFTER INSERT ON messages
    WHEN new.id <= (SELECT indexed_through FROM search_progress)
  BEGIN
    UPDATE search_progress SET indexed_through = new.id - 1;
  END;
  `,
  /* 3 */ `
  -- Where an instrument's settings live: the configuration file the gateway was started with
  -- (edited there, read-only in the UI), or the application itself (added or edited in the UI).
  ALTER TABLE instruments ADD COLUMN source TEXT NOT NULL DEFAULT 'app'
    CHECK (source IN ('file', 'app'));
  `,
  /* 4 */ `
  -- Quality-control and calibration results, as the instrument's QC rules marked them when they
  -- arrived: stored and shown like the others, never forwarded with patient results. A message
  -- is marked when any of its results is, so that the history can list them (few, hence the
  -- partial index).
  ALTER TABLE results ADD COLUMN qc INTEGER NOT NULL DEFAULT 0 CHECK (qc IN (0, 1));
  ALTER TABLE messages ADD COLUMN qc INTEGER NOT NULL DEFAULT 0 CHECK (qc IN (0, 1));
  CREATE INDEX messages_with_qc ON messages (received_at) WHERE qc = 1;
  -- The instrument profile the results were read with (null: the generic reading), so that the
  -- detail view explains them with the same one even after the instrument's settings change.
  ALTER TABLE messages ADD COLUMN profile TEXT;

  DROP TRIGGER messages_immutable;
  CREATE TRIGGER messages_immutable
    BEFORE UPDATE OF id, instrument_id, protocol, direction, received_at, control_id, dedupe_key,
      sample_ids, patient_ids, test_codes, text, raw, result_count, qc, profile ON messages
  BEGIN
    SELECT RAISE(ABORT, 'a stored message cannot be changed');
  END;
  `,
  /* 5 */ `
  -- Orders from the LIS (or typed in by hand) for the analyzers to run. tests holds the LIS codes
  -- as ordered; resulted_tests those that have a result so far. instrument_id NULL: any
  -- instrument that asks for the sample.
  CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    sample_id TEXT NOT NULL COLLATE NOCASE,
    patient_id TEXT,
    patient_name TEXT,
    tests TEXT NOT NULL CHECK (json_valid(tests)),
    resulted_tests TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(resulted_tests)),
    priority TEXT,
    instrument_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'resulted', 'cancelled')),
    source TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    sent_at INTEGER,
    resulted_at INTEGER,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX orders_by_sample ON orders (sample_id, state);
  -- Open orders are few next to history: the worklists and the expiry job read only them.
  CREATE INDEX orders_open ON orders (instrument_id, received_at)
    WHERE state IN ('pending', 'sent');

  CREATE TABLE order_history (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    instrument_id TEXT,
    message_id INTEGER,
    detail TEXT NOT NULL
  ) STRICT;
  CREATE INDEX order_history_by_order ON order_history (order_id, at);
  -- Which orders a stored message resulted, for the message detail.
  CREATE INDEX order_history_by_message ON order_history (message_id) WHERE message_id IS NOT NULL;
  `,
  /* 6 */ `
  -- Results to the LIS. A message's outbox entries are written in the transaction that stores
  -- it, one per destination, so none is lost between storing and forwarding. AUTOINCREMENT: an
  -- entry's ID is also the control ID every resend of it carries, and must never be handed out
  -- twice. scope: which of the message's results the destination receives (patient, qc or all).
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    destination_id TEXT NOT NULL,
    instrument_id TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('patient', 'qc', 'all')),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    delivered_at INTEGER,
    error TEXT
  ) STRICT;
  -- What the forwarder reads: the open entries of one destination in the order they were stored.
  CREATE INDEX outbox_pending ON outbox (destination_id, id) WHERE state = 'pending';
  CREATE INDEX outbox_by_destination ON outbox (destination_id, state, id);
  CREATE INDEX outbox_by_message ON outbox (message_id);

  -- Every delivery attempt: what was sent and what the destination answered.
  CREATE TABLE outbox_attempts (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'retry')),
    sent TEXT NOT NULL,
    answer TEXT
  ) STRICT;
  CREATE INDEX outbox_attempts_by_entry ON outbox_attempts (entry_id, at);

  -- The destinations the gateway runs (from its configuration file, or added in the app), so that
  -- the command line and the UI can tell an entry waiting for a destination on hold, or for one
  -- that no longer exists (held), from one in delivery (pending). held: on hold by a user.
  CREATE TABLE destinations (
    id TEXT PRIMARY KEY NOT NULL,
    config TEXT NOT NULL CHECK (json_valid(config)),
    source TEXT NOT NULL CHECK (source IN ('file', 'app')),
    held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  `,
  /* 7 */ `
  -- A message is written once, compactly: the text is not stored again when it is the bytes read
  -- as UTF-8 (text_is_raw = 1, text ''; see compact.ts), and the results are one JSON value in
  -- the row (an array of field arrays) instead of a row and an index entry each. results NULL:
  -- a message stored before, whose results are still rows of the results table.
  ALTER TABLE messages ADD COLUMN results TEXT;
  ALTER TABLE messages ADD COLUMN text_is_raw INTEGER NOT NULL DEFAULT 0
    CHECK (text_is_raw IN (0, 1));

  -- The messages stored before, converted a batch at a time by the side work: IDs from next_id
  -- to last_id. The row goes when all are done.
  CREATE TABLE compact_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL
  ) STRICT;
  INSERT INTO compact_progress (id, next_id, last_id)
    SELECT 1, min(id), max(id) FROM messages HAVING count(*) > 0;

  DROP TRIGGER messages_forget;
  CREATE TRIGGER messages_forget AFTER DELETE ON messages BEGIN
    DELETE FROM message_samples WHERE sample_id = old.sample_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    DELETE FROM message_patients WHERE patient_id = old.patient_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    INSERT INTO message_search (message_search, rowid, document)
      SELECT 'delete', old.id, search_document(message_text(old.text, old.text_is_raw, old.raw),
        old.sample_ids, old.patient_ids, old.test_codes, old.control_id)
      FROM search_progress WHERE old.id <= indexed_through;
  END;

  DROP TRIGGER messages_immutable;
  CREATE TRIGGER messages_immutable
    BEFORE UPDATE OF id, instrument_id, protocol, direction, received_at, control_id, dedupe_key,
      sample_ids, patient_ids, test_codes, raw, result_count, qc, profile ON messages
  BEGIN
    SELECT RAISE(ABORT, 'a stored message cannot be changed');
  END;
  -- The text and results of a message stored before may take the compact form, once; the text
  -- it stands for stays the same.
  CREATE TRIGGER messages_compact_only
    BEFORE UPDATE OF text, text_is_raw, results ON messages
    WHEN old.results IS NOT NULL OR new.results IS NULL
      OR message_text(new.text, new.text_is_raw, new.raw)
        IS NOT message_text(old.text, old.text_is_raw, old.raw)
  BEGIN
    SELECT RAISE(ABORT, 'a stored message cannot be changed');
  END;
  `,
  /* 8 */ `
  -- When the cancellation of an order already sent to a worklist instrument went out to it
  -- (ASTM O-12 C, HL7 ORC-1 CA). Orders cancelled before this column existed are not sent again.
  ALTER TABLE orders ADD COLUMN cancel_sent_at INTEGER;
  UPDATE orders SET cancel_sent_at = updated_at WHERE state = 'cancelled';
  CREATE INDEX orders_cancels_to_send ON orders (instrument_id, id)
    WHERE state = 'cancelled' AND sent_at IS NOT NULL AND cancel_sent_at IS NULL;
  `,
  /* 9 */ `
  -- "Delivered today" on a destination's card, without reading every entry ever delivered.
  CREATE INDEX outbox_delivered ON outbox (destination_id, delivered_at) WHERE state = 'delivered';
  `,
  /* 10 */ `
  -- A message's bytes are stored deflated when that pays (compact.ts packRaw): raw_size is then
  -- their length; NULL for bytes stored as they are, which every message stored before is (they
  -- stay as written: shrinking a row in place would free no page).
  ALTER TABLE messages ADD COLUMN raw_size INTEGER CHECK (raw_size IS NULL OR raw_size > 0);
  -- Likewise the results' JSON (compact.ts packResults): in results_packed, deflated, with
  -- results NULL; both NULL is a message whose results are rows of the results table.
  ALTER TABLE messages ADD COLUMN results_packed BLOB;

  DROP TRIGGER messages_forget;
  CREATE TRIGGER messages_forget AFTER DELETE ON messages BEGIN
    DELETE FROM message_samples WHERE sample_id = old.sample_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    DELETE FROM message_patients WHERE patient_id = old.patient_ids ->> 0
      AND received_at = old.received_at AND message_id = old.id;
    INSERT INTO message_search (message_search, rowid, document)
      SELECT 'delete', old.id, search_document(
        message_text(old.text, old.text_is_raw, old.raw, old.raw_size),
        old.sample_ids, old.patient_ids, old.test_codes, old.control_id)
      FROM search_progress WHERE old.id <= indexed_through;
  END;

  DROP TRIGGER messages_immutable;
  CREATE TRIGGER messages_immutable
    BEFORE UPDATE OF id, instrument_id, protocol, direction, received_at, control_id, dedupe_key,
      sample_ids, patient_ids, test_codes, raw, raw_size, results_packed, result_count, qc, profile
    ON messages
  BEGIN
    SELECT RAISE(ABORT, 'a stored message cannot be changed');
  END;
  DROP TRIGGER messages_compact_only;
  CREATE TRIGGER messages_compact_only
    BEFORE UPDATE OF text, text_is_raw, results ON messages
    WHEN old.results IS NOT NULL OR old.results_packed IS NOT NULL OR new.results IS NULL
      OR message_text(new.text, new.text_is_raw, new.raw, new.raw_size)
        IS NOT message_text(old.text, old.text_is_raw, old.raw, old.raw_size)
  BEGIN
    SELECT RAISE(ABORT, 'a stored message cannot be changed');
  END;
  `,
  /* 11 */ `
  -- The commit that acknowledges a message holds its row (and its outbox entries) and little
  -- else: each page it touches is written whole to the log. What derives from the row alone, the
  -- sample and patient ID lookups and the resend check's key, is filed by the side work after
  -- the acknowledgement, in batches, up to this message ID (also after a crash, on open).
  -- Readers look at the few rows above it as well, by rowid, so that none is missed meanwhile.
  CREATE TABLE lookup_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    filed_through INTEGER NOT NULL
  ) STRICT;
  INSERT INTO lookup_progress (id, filed_through) SELECT 1, coalesce(max(id), 0) FROM messages;
  DROP TRIGGER messages_derive;

  -- The resend check's keys, one per instrument and key, instead of a unique index on messages
  -- (its random keys cost a page of their own in every commit). Copied in the order of the index
  -- it replaces, so the copy only ever appends.
  CREATE TABLE message_dedupe (
    instrument_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, dedupe_key)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO message_dedupe (instrument_id, dedupe_key, message_id)
    SELECT instrument_id, dedupe_key, id FROM messages WHERE dedupe_key IS NOT NULL
    ORDER BY instrument_id, dedupe_key;
  DROP INDEX messages_dedupe;

  CREATE TRIGGER messages_forget_key AFTER DELETE ON messages WHEN old.dedupe_key IS NOT NULL
  BEGIN
    DELETE FROM message_dedupe WHERE instrument_id = old.instrument_id
      AND dedupe_key = old.dedupe_key AND message_id = old.id;
  END;

  -- As for the search index (migration 2): an ID handed out again after the newest messages were
  -- purged is above the mark again.
  CREATE TRIGGER messages_reuse_id_lookups AFTER INSERT ON messages
    WHEN new.id <= (SELECT filed_through FROM lookup_progress)
  BEGIN
    UPDATE lookup_progress SET filed_through = new.id - 1;
  END;
  `,
  /* 12 */ `
  -- Each instrument's messages in time order, filed after the commit like the other lookups
  -- (migration 11) instead of an index on messages that every commit touched. Copied in the
  -- order of the index it replaces, so the copy only ever appends.
  CREATE TABLE message_instruments (
    instrument_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, received_at, message_id)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO message_instruments (instrument_id, received_at, message_id)
    SELECT instrument_id, received_at, id FROM messages ORDER BY instrument_id, received_at, id;
  DROP INDEX messages_by_instrument;

  CREATE TRIGGER messages_forget_instrument AFTER DELETE ON messages BEGIN
    DELETE FROM message_instruments WHERE instrument_id = old.instrument_id
      AND received_at = old.received_at AND message_id = old.id;
  END;
  `,
  /* 13 */ `
  -- History in time order, filed after the commit like the other lookups (migrations 11, 12)
  -- instead of an index on messages that every commit touched. The partial indexes of problem
  -- statuses and QC stay: few commits touch them.
  CREATE TABLE message_times (
    received_at INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (received_at, message_id)
  ) STRICT, WITHOUT ROWID;
  INSERT INTO message_times (received_at, message_id)
    SELECT received_at, id FROM messages ORDER BY received_at, id;
  DROP INDEX messages_by_time;

  CREATE TRIGGER messages_forget_time AFTER DELETE ON messages BEGIN
    DELETE FROM message_times WHERE received_at = old.received_at AND message_id = old.id;
  END;
  `,
  /* 14 */ `
  -- Where a message's bytes lie in the stream of the connection it arrived on (JSON: connection
  -- and [offset, length] ranges; trace.ts), so that its exchange is found without searching.
  ALTER TABLE messages ADD COLUMN exchange TEXT;
  -- A trace row's place in its connection's stream, and, for inbound bytes that are also a stored
  -- message's, what replaces them: bytes then holds only the bytes no message holds, and refs
  -- says how to put the row together again (trace.ts). Rows written before keep their bytes.
  ALTER TABLE trace ADD COLUMN stream_offset INTEGER;
  ALTER TABLE trace ADD COLUMN refs TEXT;
  -- Retention deletes no message that a row still refers to (store.ts purge).
  CREATE INDEX trace_references ON trace (at) WHERE refs IS NOT NULL;
  `,
  /* 15 */ `
  -- The trace is rows more than bytes (ASTM: a row per frame and per ACK), and every index is an
  -- entry per row: retention now goes instrument by instrument over trace_by_instrument, and
  -- remembers up to when rows hold no references instead of indexing those that do.
  DROP INDEX trace_by_time;
  DROP INDEX trace_references;
  -- Every trace row older than this holds all its bytes (trace.ts).
  CREATE TABLE trace_resolved (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    before INTEGER NOT NULL
  ) STRICT;
  `,
];

export const SCHEMA_VERSION = migrations.length;

/**
 * Functions the schema's triggers call; every connection that deletes messages needs them.
 * search_document must give for a stored row exactly what the indexer wrote (search-index.ts uses
 * the same function on the same columns), and never change for it, or the index could not
 * forget that row: a new document format comes with a migration that rebuilds the index.
 */
export function registerSchemaFunctions(db: Database.Database): void {
  db.function('search_document', { deterministic: true }, storedSearchDocument);
  // Three arguments in the triggers of schema versions 7 to 9, four (raw_size) since.
  db.function('message_text', { deterministic: true, varargs: true }, messageText);
  db.function('message_results', { deterministic: true }, messageResults);
}

/** The results JSON deflated in results_packed (compact.ts), for readers' SELECTs; NULL stays. */
function messageResults(packed: unknown): string | null {
  if (packed === null) return null;
  if (!(packed instanceof Uint8Array)) throw new TypeError('message_results: bytes expected');
  return unpackResults(Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength));
}

/** A message's text from its stored columns (compact.ts). */
function messageText(text: unknown, isRaw: unknown, raw: unknown, rawSize: unknown = null): string {
  if (typeof text !== 'string') throw new TypeError('message_text: text must be text');
  if (isRaw !== 1) return text;
  if (!(raw instanceof Uint8Array)) throw new TypeError('message_text: raw must be bytes');
  if (rawSize !== null && typeof rawSize !== 'number') {
    throw new TypeError('message_text: raw_size must be a number or null');
  }
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return storedText(text, isRaw, unpackRaw(bytes, rawSize));
}

/** The search index's document for a stored row, from its columns. */
export function storedSearchDocument(
  text: string,
  samples: string,
  patients: string,
  codes: string,
  control: string | null,
): string {
  const sampleIds = JSON.parse(samples) as string[];
  const patientIds = JSON.parse(patients) as string[];
  const ids = [...sampleIds, ...patientIds, ...(JSON.parse(codes) as string[])];
  if (control !== null) ids.push(control);
  return searchDocument(text, ids, [...sampleIds, ...patientIds]);
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the file to SCHEMA_VERSION (`upTo`: an older version, for tests of a migration). Safe when several processes open a new file at once: the
 * version is read again under the write lock before each step.
 */
export function migrate(db: Database.Database, upTo = SCHEMA_VERSION): void {
  refuseNewer(schemaVersion(db));
  const step = db.transaction((target: number) => {
    const current = schemaVersion(db);
    refuseNewer(current);
    if (current >= target) return;
    const sql = migrations[current];
    if (sql === undefined) throw new Error(`no migration from schema version ${current}`);
    db.exec(sql);
    db.pragma(`user_version = ${current + 1}`);
  });
  for (let target = schemaVersion(db) + 1; target <= upTo; target++) {
    step.immediate(target);
  }
}

/** For read-only opens, which cannot migrate. */
export function requireCurrent(db: Database.Database): void {
  const version = schemaVersion(db);
  refuseNewer(version);
  if (version < SCHEMA_VERSION) {
    throw new StoreError(
      'STORE_OPEN_FAILED',
      version === 0
        ? 'the file is not a gateway database (or is empty)'
        : `the database is at schema version ${version} and needs an upgrade: open it once for writing`,
    );
  }
}

function refuseNewer(version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'STORE_TOO_NEW',
      `the database was written by a newer version of the gateway (schema ${version}, this version knows ${SCHEMA_VERSION})`,
    );
  }
}
