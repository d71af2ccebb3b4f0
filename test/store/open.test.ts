import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, StoreError, openStore } from '../../src-main/store';
import { hl7Message, storeSandbox } from './fixtures';

let sandbox: ReturnType<typeof storeSandbox>;
beforeEach(() => {
  sandbox = storeSandbox();
});
afterEach(() => sandbox.cleanup());

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return (error as StoreError).code;
  }
  return undefined;
}

describe('opening a store', () => {
  it('creates the schema in an empty file with WAL, full durability and foreign keys', () => {
    const store = sandbox.open();
    expect(store.settings()).toMatchObject({
      journalMode: 'wal',
      synchronous: 'full',
      foreignKeys: true,
      busyTimeoutMs: 5000,
      schemaVersion: SCHEMA_VERSION,
      readonly: false,
    });
    expect(store.counts()).toEqual({
      messages: 0,
      results: 0,
      events: 0,
      trace: 0,
      sampleKeys: 0,
      patientKeys: 0,
    });
  });

  it('uses synchronous=NORMAL when asked for normal durability', () => {
    expect(sandbox.open({ durability: 'normal' }).settings().synchronous).toBe('normal');
  });

  it('reopens an existing file without migrating again and keeps its data', () => {
    const first = sandbox.open();
    const [outcome] = first.insertMessages([hl7Message(1)]);
    first.close();
    const again = sandbox.open();
    expect(again.settings().schemaVersion).toBe(SCHEMA_VERSION);
    expect(again.getMessage(outcome!.id)?.text).toBe(hl7Message(1).text);
    again.close();
    expect(sandbox.open().counts().messages).toBe(1);
  });

  it('opens read-only for readers, refusing writes with a code', async () => {
    sandbox.open().insertMessages([hl7Message(1)]);
    const reader = sandbox.open({ readonly: true });
    expect(reader.settings().readonly).toBe(true);
    expect(reader.queryMessages().items).toHaveLength(1);
    expect(codeOf(() => reader.insertMessages([hl7Message(2)]))).toBe('STORE_READONLY');
    await expect(reader.enqueue(hl7Message(2))).rejects.toMatchObject({ code: 'STORE_READONLY' });
  });

  it('refuses to open a missing file read-only', () => {
    const file = sandbox.file('missing.sqlite');
    expect(codeOf(() => openStore({ file, readonly: true }))).toBe('STORE_OPEN_FAILED');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses a file written by a newer schema', () => {
    sandbox.open().close();
    const file = sandbox.file();
    // user_version lives in the file header, four bytes at offset 60.
    const handle = fs.openSync(file, 'r+');
    fs.writeSync(handle, Buffer.from([0, 0, 0, SCHEMA_VERSION + 1]), 0, 4, 60);
    fs.closeSync(handle);
    expect(codeOf(() => openStore({ file }))).toBe('STORE_TOO_NEW');
    expect(codeOf(() => openStore({ file, readonly: true }))).toBe('STORE_TOO_NEW');
  });

  it('refuses a file that is not a database, in plain words', () => {
    const file = sandbox.file('notes.sqlite');
    fs.writeFileSync(
      file,
      'shopping list: milk, eggs, bread, and more than a header of text\n'.repeat(20),
    );
    let error: unknown;
    try {
      openStore({ file });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('STORE_CORRUPT');
    expect((error as StoreError).message).toMatch(
      /could not open the database .*: the file is not/,
    );
  });

  it('closes idempotently and refuses work afterwards', async () => {
    const store = sandbox.open();
    store.close();
    store.close();
    expect(codeOf(() => store.queryMessages())).toBe('STORE_CLOSED');
    await expect(store.enqueue(hl7Message(1))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('reports the size of the database and its log', () => {
    const store = sandbox.open();
    const empty = store.fileSize();
    store.insertMessages(Array.from({ length: 50 }, (_, n) => hl7Message(n)));
    expect(store.fileSize()).toBeGreaterThan(empty);
    const checkpoint = store.checkpoint('truncate');
    expect(checkpoint.busy).toBe(false);
  });
});
