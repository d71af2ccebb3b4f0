import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageFilter, MessageSummary, NewMessage, Store } from '../../src-main/store';
import { astmMessage, hl7Message, random, storeSandbox, T0 } from './fixtures';
import { openStore, storeTestHooks } from '../../src-main/store/store';

/** Reads every page of a query, inserting `during` between pages when given. */
function allPages(
  store: Store,
  filter: MessageFilter,
  during?: (page: number) => void,
): MessageSummary[] {
  const items: MessageSummary[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const result = store.queryMessages({ ...filter, cursor });
    items.push(...result.items);
    if (result.nextCursor === null) return items;
    cursor = result.nextCursor;
    during?.(page);
  }
  throw new Error('paging did not end');
}

function inOrder(items: MessageSummary[], order: 'asc' | 'desc' = 'desc'): boolean {
  return items.every((item, i) => {
    const prev = items[i - 1];
    if (!prev) return true;
    const cmp = prev.receivedAt - item.receivedAt || prev.id - item.id;
    return order === 'desc' ? cmp > 0 : cmp < 0;
  });
}

/** The documented search rule, written out independently of the store's code. */
function referenceMatch(message: NewMessage, search: string): boolean {
  const words = search.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
  const clean = (ids: (string | null | undefined)[]) =>
    ids
      .filter((id): id is string => typeof id === 'string' && id.trim() !== '')
      .map((id) => id.trim().toLowerCase());
  const partIds = clean([
    ...(message.sampleIds ?? []),
    ...(message.patientIds ?? []),
    ...message.results.flatMap((r) => [r.sampleId, r.patientId]),
  ]);
  const fields = [
    message.text.toLowerCase(),
    ...partIds,
    ...clean([...message.results.map((r) => r.testCode), message.controlId]),
  ];
  const escape = (w: string) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return words.every((word) => {
    const w = word.toLowerCase();
    const before = /^[\p{L}\p{N}]/u.test(w) ? '(?<![\\p{L}\\p{N}])' : '';
    const after = /[\p{L}\p{N}]$/u.test(w) ? '(?![\\p{L}\\p{N}])' : '';
    const whole = new RegExp(`${before}${escape(w)}${after}`, 'u');
    if (fields.some((field) => whole.test(field))) return true;
    return [...w].length >= 3 && partIds.some((id) => [...id].length <= 32 && id.includes(w));
  });
}

describe('history queries', () => {
  const sandbox = storeSandbox();
  let store: Store;
  const stored = new Map<number, NewMessage>();

  beforeAll(() => {
    store = sandbox.open();
    const rnd = random(7);
    const messages: NewMessage[] = [];
    for (let n = 0; n < 600; n++) {
      // Some share a millisecond, some arrive out of order.
      const receivedAt = T0 + Math.floor(n / 3) * 1000 - (n % 50 === 0 ? 500_000 : 0);
      const instrumentId = ['chem1', 'chem2', 'hema1'][n % 3]!;
      const base =
        n % 2 === 0
          ? hl7Message(n, { instrumentId, receivedAt })
          : astmMessage(n, { instrumentId, receivedAt });
      const status = n % 17 === 0 ? 'error' : 'stored';
      const direction = n % 11 === 0 ? 'out' : 'in';
      messages.push({
        ...base,
        status,
        direction,
        results: base.results.slice(0, 1 + Math.floor(rnd() * 10)),
      });
    }
    messages.push({
      ...hl7Message(9000, { sampleId: '11625', patientId: 'MÜLLER-7' }),
      sampleIds: ['S-EXTRA-1'],
      controlId: 'CTL-ABC-42',
    });
    const outcomes = store.insertMessages(messages);
    outcomes.forEach((o, i) => stored.set(o.id, messages[i]!));
  });
  afterAll(() => sandbox.cleanup());

  it('pages newest first by (receivedAt, id) without gaps or repeats, even while messages arrive', () => {
    const before = new Set(stored.keys());
    let extra = 0;
    const seen = allPages(store, { limit: 37 }, () => {
      const newer = hl7Message(20_000 + extra++, { receivedAt: T0 + 10_000_000 });
      const older = hl7Message(20_000 + extra++, { receivedAt: T0 - 10_000_000 });
      for (const [i, outcome] of store.insertMessages([newer, older]).entries()) {
        stored.set(outcome.id, [newer, older][i]!);
      }
    });
    const ids = seen.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of before) expect(ids).toContain(id);
    expect(inOrder(seen)).toBe(true);
    expect(seen.some((m) => m.receivedAt === T0 + 10_000_000)).toBe(false);
  });

  it('pages oldest first when asked', () => {
    const seen = allPages(store, { order: 'asc', limit: 101 });
    expect(seen).toHaveLength(stored.size);
    expect(inOrder(seen, 'asc')).toBe(true);
  });

  it('filters by instrument, protocol, direction, status and time', () => {
    const cases: [MessageFilter, (m: NewMessage) => boolean][] = [
      [{ instrumentId: 'chem2' }, (m) => m.instrumentId === 'chem2'],
      [{ protocol: 'astm' }, (m) => m.protocol === 'astm'],
      [{ direction: 'out' }, (m) => m.direction === 'out'],
      [{ status: 'error' }, (m) => m.status === 'error'],
      [
        { status: 'stored', instrumentId: 'hema1' },
        (m) => m.status === 'stored' && m.instrumentId === 'hema1',
      ],
      [
        { from: T0 + 50_000, to: T0 + 90_000 },
        (m) => m.receivedAt >= T0 + 50_000 && m.receivedAt < T0 + 90_000,
      ],
      [
        { instrumentId: 'chem1', direction: 'in', from: T0 },
        (m) => m.instrumentId === 'chem1' && m.direction === 'in' && m.receivedAt >= T0,
      ],
    ];
    for (const [filter, predicate] of cases) {
      const seen = allPages(store, { ...filter, limit: 50 });
      const expected = [...stored].filter(([, m]) => predicate(m)).map(([id]) => id);
      expect(
        seen.map((m) => m.id).sort((a, b) => a - b),
        JSON.stringify(filter),
      ).toEqual(expected.sort((a, b) => a - b));
      expect(inOrder(seen)).toBe(true);
    }
  });

  it('finds messages by exact sample or patient ID, ignoring ASCII case, with multi-sample messages', () => {
    const [id] = [...stored].find(([, m]) => m.controlId === 'CTL-ABC-42')!;
    expect(store.queryMessages({ sampleId: '11625' }).items.map((m) => m.id)).toEqual([id]);
    expect(store.queryMessages({ sampleId: 's-extra-1' }).items.map((m) => m.id)).toEqual([id]);
    expect(store.queryMessages({ patientId: 'MÜLLER-7' }).items.map((m) => m.id)).toEqual([id]);
    expect(store.queryMessages({ patientId: 'MÜller-7' }).items.map((m) => m.id)).toEqual([id]);
    expect(store.queryMessages({ sampleId: '1162' }).items).toEqual([]);
    const patient = stored.get(5)!.results[0]!.patientId!;
    const expected = [...stored].filter(([, m]) => m.results.some((r) => r.patientId === patient));
    const seen = allPages(store, { patientId: patient, limit: 1 });
    expect(seen.map((m) => m.id).sort()).toEqual(expected.map(([i]) => i).sort());
    expect(store.queryMessages({ sampleId: '11625', patientId: 'MÜLLER-7' }).items).toHaveLength(1);
    expect(store.queryMessages({ sampleId: '11625', patientId: 'other' }).items).toHaveLength(0);
    expect(store.queryMessages({ sampleId: '11625', instrumentId: 'nowhere' }).items).toHaveLength(
      0,
    );
  });

  it('searches IDs, test codes and words of the text as documented', () => {
    const some = stored.get(42)!;
    const sampleId = some.results[0]!.sampleId!;
    const searches = [
      sampleId,
      sampleId.slice(2, 7),
      some.results[0]!.patientId!,
      'CTL-ABC',
      'abc-4',
      '11625',
      '162',
      'extra',
      'GLU',
      'glu',
      'K',
      'NA',
      'na',
      'U/L',
      'kowalski',
      'Gluc',
      'glucose',
      'ucose',
      'Potassium',
      'mmol/L',
      'okafor amara',
      'MÜLLER',
      'müller-7',
      'cobas',
      'ORU^R01',
      '^R01',
      'CL-PL-24-0042',
      'zzzzzz',
      'hba1c',
      '"DOE JOHN"',
    ];
    for (const search of searches) {
      const seen = allPages(store, { search, limit: 200 });
      const expected = [...stored]
        .filter(([, m]) => referenceMatch(m, search.replaceAll('"', '')))
        .map(([id]) => id);
      expect(
        seen.map((m) => m.id).sort((a, b) => a - b),
        search,
      ).toEqual(expected.sort((a, b) => a - b));
      expect(inOrder(seen), search).toBe(true);
    }
  });

  it('combines search with filters and ID lookups', () => {
    const seen = allPages(store, { search: 'kowalski', instrumentId: 'chem1', direction: 'in' });
    const expected = [...stored].filter(
      ([, m]) =>
        referenceMatch(m, 'kowalski') && m.instrumentId === 'chem1' && m.direction === 'in',
    );
    expect(seen.map((m) => m.id).sort()).toEqual(expected.map(([id]) => id).sort());
    expect(store.queryMessages({ sampleId: '11625', search: 'glucose' }).items).toHaveLength(1);
    expect(store.queryMessages({ sampleId: '11625', search: 'kelvin' }).items).toHaveLength(0);
  });

  it('treats search text as words, never as query syntax', () => {
    for (const search of [
      '"',
      'a OR b',
      'NEAR(x y)',
      '*',
      'col:value',
      "'; DROP TABLE messages; --",
      '^^^',
    ]) {
      expect(() => store.queryMessages({ search })).not.toThrow();
    }
    expect(store.counts().messages).toBe(stored.size);
  });

  it('gives summaries with a short preview', () => {
    const [first] = store.queryMessages({ limit: 1 }).items;
    const source = stored.get(first!.id)!;
    expect(first).toMatchObject({
      instrumentId: source.instrumentId,
      resultCount: source.results.length,
      errorCount: 0,
      size: source.raw.length,
    });
    expect(first!.preview).toBe(source.text.slice(0, 200));
  });

  it('checks page sizes and cursors', () => {
    expect(store.queryMessages().items).toHaveLength(50);
    const all = store.queryMessages({ limit: 1000 });
    expect(all.items).toHaveLength(stored.size);
    expect(all.nextCursor).toBeNull();
    expect(() => store.queryMessages({ limit: 0 })).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID' }),
    );
    expect(() => store.queryMessages({ cursor: 'bogus' })).toThrow(
      expect.objectContaining({ code: 'STORE_BAD_CURSOR' }),
    );
  });
});

describe('search at volume', () => {
  const sandbox = storeSandbox();
  let store: Store;
  const total = 10_500;

  beforeAll(() => {
    store = sandbox.open({ durability: 'normal' });
    for (let n = 0; n < total; n += 1500) {
      store.insertMessages(
        Array.from({ length: Math.min(1500, total - n) }, (_, i) =>
          hl7Message(n + i, {
            results: 1,
            receivedAt: T0 + (n + i) * 10 - ((n + i) % 97 === 0 ? 5000 : 0),
          }),
        ),
      );
    }
  }, 60_000);
  afterAll(() => sandbox.cleanup());

  it('pages a frequent word (read in history order) like a rare one (sorted candidates)', () => {
    expect(storeTestHooks(store).searchIndexCandidates('glucose').length).toBe(total);
    const frequent = allPages(store, { search: 'glucose', limit: 500 });
    expect(frequent).toHaveLength(total);
    expect(new Set(frequent.map((m) => m.id)).size).toBe(total);
    expect(inOrder(frequent)).toBe(true);
    const surname = allPages(store, { search: 'tanaka', limit: 333 });
    expect(inOrder(surname)).toBe(true);
    expect(surname.every((m) => store.getMessage(m.id)!.text.includes('TANAKA'))).toBe(true);
    const oldest = allPages(store, { search: 'glucose', order: 'asc', limit: 999 });
    expect(oldest.map((m) => m.id)).toEqual(frequent.map((m) => m.id).reverse());
  });

  it('finds old matches among many loose candidates by sorting after reading', () => {
    // Every message has the words NM and OBX, so the index lists all of them for `NM^OBX`, but
    // only the oldest three have them in that order.
    const old = store.insertMessages(
      [1, 2, 3].map((n) => {
        const message = hl7Message(50_000 + n, { results: 1, receivedAt: T0 - n * 1000 });
        return { ...message, text: `${message.text}\rNTE|1||NM^OBX` };
      }),
    );
    expect(storeTestHooks(store).searchIndexCandidates('NM^OBX').length).toBeGreaterThan(10_000);
    const seen = allPages(store, { search: 'NM^OBX', limit: 2 });
    expect(seen.map((m) => m.id)).toEqual(old.map((o) => o.id));
  });

  it('finds a message the index does not hold yet while reading history', () => {
    // A reader on the same file (as the command line opens one) does not index, and the
    // writer's side work has not run yet after the last message.
    store.flush();
    const [added] = store.insertMessages([
      hl7Message(60_000, { results: 1, receivedAt: T0 + total * 10 + 1000 }),
    ]);
    const reader = openStore({ file: sandbox.file(), readonly: true });
    try {
      expect(storeTestHooks(reader).searchIndexCandidates('glucose')).not.toContain(added!.id);
      const page = reader.queryMessages({ search: 'glucose', limit: 1 });
      expect(page.items[0]!.id).toBe(added!.id);
    } finally {
      reader.close();
    }
  });

  it('caps a page at 1000 messages', () => {
    const page = store.queryMessages({ limit: 5000 });
    expect(page.items).toHaveLength(1000);
    expect(page.nextCursor).not.toBeNull();
  });

  it('uses the indexes for the main queries', () => {
    const plan = (filter: MessageFilter) =>
      storeTestHooks(store).explainMessageQuery(filter).join(' | ');
    // History by time is a lookup of its own (message_times), read in order.
    expect(plan({})).toMatch(/^SCAN k; SEARCH m USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(plan({ cursor: `${T0}.5` })).toMatch(
      /^SEARCH k USING PRIMARY KEY \(\(received_at,message_id\)<\(\?,\?\)\)/,
    );
    expect(plan({ qc: true })).toMatch(/USING INDEX messages_with_qc/);
    expect(plan({ instrumentId: 'hema1' })).toMatch(
      /SEARCH k USING PRIMARY KEY \(instrument_id=\?/,
    );
    expect(plan({ instrumentId: 'hema1', status: 'error' })).toMatch(
      /USING INDEX messages_with_problems \(status=\?/,
    );
    // The lookups' unfiled tail is read by rowid range.
    expect(plan({ instrumentId: 'hema1' })).toMatch(
      /SEARCH m USING INTEGER PRIMARY KEY \(rowid>\?/,
    );
    expect(plan({ status: 'error' })).toMatch(/USING INDEX messages_with_problems \(status=\?/);
    expect(plan({ sampleId: 'x' })).toMatch(/SEARCH k USING PRIMARY KEY \(sample_id=\?/);
    expect(plan({ patientId: 'x' })).toMatch(/SEARCH k USING PRIMARY KEY \(patient_id=\?/);
    for (const filter of [
      {},
      { cursor: `${T0}.5` },
      { qc: true },
      { from: T0, to: T0 + 1000 },
      { instrumentId: 'hema1' },
      { sampleId: 'x' },
      { patientId: 'x' },
      { status: 'error' },
    ]) {
      expect(plan(filter)).not.toMatch(/TEMP B-TREE/);
    }
    const [scan, candidates] = storeTestHooks(store).explainMessageQuery({ search: 'glucose' });
    expect(scan).toMatch(/^SCAN k; SEARCH m USING INTEGER PRIMARY KEY/);
    expect(candidates).toMatch(
      /SCAN message_search VIRTUAL TABLE.*SEARCH m USING INTEGER PRIMARY KEY/,
    );
  });

  it('keeps using them after SQLite has gathered statistics', () => {
    store.close();
    store = sandbox.open({ durability: 'normal' });
    const plan = (filter: MessageFilter) =>
      storeTestHooks(store).explainMessageQuery(filter).join(' | ');
    expect(plan({})).toMatch(/^SCAN k; SEARCH m USING INTEGER PRIMARY KEY/);
    expect(plan({ instrumentId: 'hema1' })).toMatch(
      /SEARCH k USING PRIMARY KEY \(instrument_id=\?/,
    );
    expect(plan({ sampleId: 'x' })).toMatch(/SEARCH k USING PRIMARY KEY/);
  });
});
