/**
 * A database written before trace rows could refer to messages (schema 9): its trace rows keep
 * their bytes and read back as written, its messages (stored without their stream ranges) still
 * find their exchange by searching the trace, and what is traced after the upgrade refers to
 * the messages stored after it.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import { findExchange } from '../../src-main/service/exchange';
import { openStore } from '../../src-main/store';
import { migrate, registerSchemaFunctions, SCHEMA_VERSION } from '../../src-main/store/schema';
import { storeSandbox, T0 } from './fixtures';

/** The schema version trace references came with: the first whose trace has `refs`. */
function referencesVersion(): number {
  for (let version = 1; version <= SCHEMA_VERSION; version++) {
    const db = new Database(':memory:');
    try {
      registerSchemaFunctions(db);
      migrate(db, version);
      const columns = db.prepare('PRAGMA table_info(trace)').all() as { name: string }[];
      if (columns.some((c) => c.name === 'refs')) return version;
    } finally {
      db.close();
    }
  }
  throw new Error('no schema version has trace references');
}
const REFERENCES_VERSION = referencesVersion();

let sandbox: ReturnType<typeof storeSandbox>;
beforeEach(() => {
  sandbox = storeSandbox();
});
afterEach(() => sandbox.cleanup());

const payload = (control: string): Buffer =>
  Buffer.from(
    `MSH|^~\\&|AN|LAB|LIS|HOSP|20260101120000||ORU^R01|${control}|P|2.5\rPID|1||P1\rOBX|1|NM|GLU||5.4|mmol/L|||||F`,
    'latin1',
  );

describe('upgrading a database with a session trace', () => {
  it('keeps old rows as written and refers to messages stored after the upgrade', async () => {
    const file = sandbox.file();
    const old = payload('OLD1');
    const oldRead = frameMllp(old);
    {
      const db = new Database(file);
      registerSchemaFunctions(db);
      db.pragma('journal_mode = WAL');
      migrate(db, REFERENCES_VERSION - 1);
      db.prepare(
        `INSERT INTO messages (instrument_id, protocol, direction, received_at, status, ack,
           control_id, dedupe_key, result_count, error_count, sample_ids, patient_ids,
           test_codes, errors, text, text_is_raw, raw, results, qc, profile)
         VALUES ('an1', 'hl7', 'in', ?, 'stored', 'AA', 'OLD1', NULL, 0, 0, '[]', '[]', '[]',
           '[]', '', 1, ?, '[]', 0, NULL)`,
      ).run(T0 + 1, old);
      const trace = db.prepare(
        `INSERT INTO trace (instrument_id, connection_id, at, direction, bytes)
         VALUES ('an1', 'c1', ?, ?, ?)`,
      );
      trace.run(T0, 'in', oldRead.subarray(0, 40));
      trace.run(T0, 'in', oldRead.subarray(40));
      trace.run(T0 + 2, 'out', Buffer.from('\x0bMSH|ACK\x1c\r', 'latin1'));
      db.close();
    }

    const store = openStore({ file });
    try {
      const rows = store.getTrace({ instrumentId: 'an1', from: 0, to: T0 + 10_000 }).items;
      expect(Buffer.concat(rows.filter((r) => r.direction === 'in').map((r) => r.bytes))).toEqual(
        oldRead,
      );
      expect(rows.every((r) => r.offset === undefined)).toBe(true);
      const message = store.getMessage(1)!;
      expect(message.exchange).toBeNull();
      // Found by its bytes, as before.
      expect(findExchange(message, rows)?.sent).toEqual(oldRead);

      // After the upgrade: a new connection's read refers to the message stored from it.
      const fresh = payload('NEW1');
      const read = frameMllp(fresh);
      store.enqueueTrace({
        instrumentId: 'an1',
        connectionId: 'c2',
        at: T0 + 5,
        direction: 'in',
        bytes: read,
        offset: 0,
      });
      const { id } = await store.enqueue({
        instrumentId: 'an1',
        protocol: 'hl7',
        direction: 'in',
        receivedAt: T0 + 5,
        text: fresh.toString('latin1'),
        raw: fresh,
        status: 'stored',
        errors: [],
        results: [],
        exchange: { connectionId: 'c2', ranges: [[1, fresh.length]] },
      });
      store.flush();
      expect(store.getMessage(id)!.exchange).toEqual({
        connectionId: 'c2',
        ranges: [[1, fresh.length]],
      });
      const after = store.getTrace({
        instrumentId: 'an1',
        connectionId: 'c2',
        from: 0,
        to: T0 + 10_000,
      });
      expect(after.items.map((r) => r.bytes)).toEqual([read]);
      const db = new Database(file, { readonly: true });
      try {
        expect(
          db
            .prepare(
              "SELECT connection_id, length(bytes) AS n, refs IS NOT NULL AS ref FROM trace WHERE direction = 'in' ORDER BY id",
            )
            .all(),
        ).toEqual([
          { connection_id: 'c1', n: 40, ref: 0 },
          { connection_id: 'c1', n: oldRead.length - 40, ref: 0 },
          { connection_id: 'c2', n: 3, ref: 1 },
        ]);
      } finally {
        db.close();
      }
    } finally {
      store.close();
    }
  });
});
