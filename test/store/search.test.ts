import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewMessage, Store } from '../../src-main/store';
import { matchesSearch, mayMatch, planSearch, searchDocument } from '../../src-main/store/search';
import { storeSandbox, T0 } from './fixtures';

describe('search plans', () => {
  it('asks the index for whole words only, leaving out cut ends shorter than three characters', () => {
    expect(planSearch('Glucose')?.match).toBe('"Glucose"');
    expect(planSearch('mmol/L')?.match).toBe('"mmol"');
    expect(planSearch('K NA')?.match).toBe('"K" "NA"');
    expect(planSearch('"DOE^JOHN" 11625')?.match).toBe('"DOE" "JOHN" "11625"');
    expect(planSearch('PL-24-0370')?.match).toBe('"24" "0370"');
    expect(planSearch('a-b')?.match).toBeNull();
    expect(planSearch('   ')).toBeNull();
    expect(planSearch('^^^ |')).toBeNull();
    expect(planSearch('a OR b')?.match).toBe('"a" "OR" "b"');
  });

  it('indexes the words of text and IDs, and the parts of sample and patient IDs, each once', () => {
    expect(searchDocument('R|1|^^^GLU\rL|1', ['S-26', 'GLU'], [])).toBe('R 1 GLU L S 26');
    expect(searchDocument('x', ['S2601'], ['S2601'])).toBe('x S2601 S26 S260 260 2601 601');
    expect(searchDocument('é|ß', ['Ab€9'], [])).toBe('é ß Ab 9');
    expect(searchDocument('e\u0301t', ['😀7z'], [])).toBe('e t 7z');
    expect(searchDocument('', ['x'.repeat(40)], ['x'.repeat(40)])).toBe('x'.repeat(40));
  });

  it('gives what the Set of split words gives, for any text and IDs', () => {
    // The definition the document's words must keep: stored documents are deleted by it.
    const reference = (text: string, ids: string[], partIds: string[]) => {
      const words = new Set(text.split(/[^\p{L}\p{N}\p{Co}]+/u));
      words.delete('');
      for (const id of ids) for (const t of id.match(/[\p{L}\p{N}\p{Co}]+/gu) ?? []) words.add(t);
      for (const id of partIds) {
        if ([...id].length > 32) continue;
        for (const t of id.match(/[\p{L}\p{N}\p{Co}]+/gu) ?? []) {
          const chars = [...t];
          for (let a = 0; a + 3 <= chars.length; a++) {
            for (let b = a + 3; b <= chars.length; b++) words.add(chars.slice(a, b).join(''));
          }
        }
      }
      return [...words].join(' ');
    };
    // Words, separators, non-ASCII letters and marks, astral characters, lone surrogates.
    const unit = fc.oneof(
      fc.constantFrom(
        'a',
        'Z',
        '7',
        'OBX',
        'µ',
        'é',
        '\u0301',
        'ß',
        '€',
        '😀',
        '𝟘',
        '\ud800',
        '\udc00',
      ),
      fc.constantFrom('|', '^', '~', '\\', '&', '\r', ' ', '.', '/', '-', '\u00a0', '\ue000'),
      fc.string({ unit: 'grapheme', maxLength: 3 }),
      fc.string({ maxLength: 4 }),
    );
    const text = fc.array(unit, { maxLength: 60 }).map((parts) => parts.join(''));
    const id = fc.array(unit, { maxLength: 8 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        text,
        fc.array(id, { maxLength: 4 }),
        fc.array(id, { maxLength: 3 }),
        (t, ids, partIds) => {
          expect(searchDocument(t, ids, partIds)).toBe(reference(t, ids, partIds));
        },
      ),
      { numRuns: 2000 },
    );
    // Many distinct words: the table grows.
    const many = Array.from({ length: 3000 }, (_, i) => `w${i}`).join('|');
    expect(searchDocument(many, ['x1'], ['abcdef'])).toBe(reference(many, ['x1'], ['abcdef']));
  });

  it('matches whole words of text and IDs, and parts of sample and patient IDs', () => {
    const row = {
      text: 'OBX|1|NM|GLU^Glucose||5.4|mmol/L',
      ids: ['S26000123', 'P-77', 'GLU', 'K', 'MSG0042'],
      partIds: ['S26000123', 'P-77'],
    };
    const match = (search: string) => matchesSearch(planSearch(search)!, row);
    expect(match('6000')).toBe(true);
    expect(match('k')).toBe(true);
    expect(match('lu')).toBe(false);
    expect(match('glucose')).toBe(true);
    expect(match('gluc')).toBe(false);
    expect(match('ucose')).toBe(false);
    expect(match('mmol/l')).toBe(true);
    expect(match('^glucose')).toBe(true);
    expect(match('glu^gluc')).toBe(false);
    expect(match('msg0042')).toBe(true);
    expect(match('0042')).toBe(false);
    expect(match('p-7')).toBe(true);
    expect(match('77')).toBe(true);
    expect(match('glucose potassium')).toBe(false);
  });
});

describe('the quick test before the exact check', () => {
  it('never rejects a row the exact check accepts', () => {
    let matched = 0;
    const text = fc.string({
      unit: fc.constantFrom(...'aZ9^|-"\\ éÉ😀\r'.split(/(?:)/u)),
      maxLength: 30,
    });
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 4 }), fc.nat(), fc.nat(), (body, ids, a, b) => {
        const source = [...[body, ...ids][a % (ids.length + 1)]!];
        const start = b % Math.max(1, source.length);
        const search = source.slice(start, start + 1 + (a % 7)).join('');
        const plan = planSearch(search);
        if (!plan || !matchesSearch(plan, { text: body, ids, partIds: ids })) return;
        matched++;
        expect(mayMatch(plan, body, JSON.stringify(ids))).toBe(true);
      }),
      { numRuns: 3000, seed: 7 },
    );
    expect(matched).toBeGreaterThan(500);
  });
});

describe('search through the index agrees with the rule, whatever the IDs and text', () => {
  const sandbox = storeSandbox();
  let store: Store;
  const messages: NewMessage[] = [];
  const ids: number[] = [];
  // Besides plain characters: a combining accent, a Devanagari sign, an unassigned code point,
  // private use, a Roman numeral, a soft hyphen, which tokenizers disagree about.
  const alphabet = fc.constantFrom(
    ...'ab9Z0-^|/. _ÉéΩ€😀'.split(/(?:)/u),
    ...['\u0301', '\u0951', '\u0378', '\uE000', 'Ⅰ', '\u00AD', 'İ', 'ß'],
  );
  const chunk = fc.array(alphabet, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));

  beforeAll(() => {
    store = sandbox.open({ durability: 'normal' });
    const generated = fc.sample(
      fc.record({
        sample: chunk,
        patient: chunk,
        code: chunk,
        text: fc.array(chunk, { maxLength: 8 }),
      }),
      {
        numRuns: 150,
        seed: 20261126,
      },
    );
    generated.forEach((g, n) => {
      messages.push({
        instrumentId: 'fuzz',
        protocol: 'hl7',
        direction: 'in',
        receivedAt: T0 + n,
        controlId: `C${n}`,
        text: g.text.join('\r'),
        raw: Buffer.from(g.text.join('\r')),
        status: 'stored',
        errors: [],
        results: [
          {
            sampleId: g.sample,
            patientId: g.patient,
            testCode: g.code,
            value: null,
            units: null,
            flags: null,
            status: null,
            observedAt: null,
          },
        ],
      });
    });
    ids.push(...store.insertMessages(messages).map((o) => o.id));
  });
  afterAll(() => sandbox.cleanup());

  // The store keeps IDs trimmed, so the check is given them trimmed too.
  const trimmed = (ids: (string | null | undefined)[]) =>
    ids.map((id) => id?.trim() ?? '').filter((id) => id !== '');
  const idsOf = (m: NewMessage) =>
    trimmed([...m.results.flatMap((r) => [r.sampleId, r.patientId, r.testCode]), m.controlId]);
  const partIdsOf = (m: NewMessage) => trimmed(m.results.flatMap((r) => [r.sampleId, r.patientId]));

  it('finds exactly the messages the exact check accepts', () => {
    const pieces = messages.flatMap((m) => [
      m.text,
      ...m.results.flatMap((r) => [r.sampleId!, r.patientId!, r.testCode!]),
    ]);
    const part = fc.tuple(fc.constantFrom(...pieces), fc.nat(), fc.nat()).map(([piece, a, b]) => {
      const chars = [...piece];
      const start = a % Math.max(1, chars.length);
      return chars.slice(start, start + 1 + (b % 10)).join('');
    });
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 3 }), (parts) => {
        const word = parts.join(' ').trim();
        const plan = planSearch(word);
        if (!plan) return;
        const expected = messages
          .map((m, i) =>
            matchesSearch(plan, { text: m.text, ids: idsOf(m), partIds: partIdsOf(m) })
              ? ids[i]
              : null,
          )
          .filter((id): id is number => id !== null)
          .sort((x, y) => x - y);
        const found = store
          .queryMessages({ search: word, limit: 1000 })
          .items.map((m) => m.id)
          .sort((x, y) => x - y);
        expect(found, JSON.stringify(word)).toEqual(expected);
      }),
      { numRuns: 1000, seed: 42 },
    );
  });
});

describe('a word the index cannot take', () => {
  const sandbox = storeSandbox();
  afterAll(() => sandbox.cleanup());

  it('is still found, by reading history', () => {
    const store = sandbox.open();
    // U+19B0 is a letter to JavaScript but splits words for SQLite's older Unicode tables.
    const text = 'NTE|1||cake xᦰy here';
    const base = {
      instrumentId: 'x',
      protocol: 'hl7' as const,
      direction: 'in' as const,
      raw: Buffer.from('x'),
      status: 'stored',
      errors: [],
      results: [],
    };
    const [hit] = store.insertMessages([
      { ...base, receivedAt: T0, text },
      { ...base, receivedAt: T0 + 1, text: 'NTE|1||cake xy' },
    ]);
    expect(store.queryMessages({ search: 'xᦰy' }).items.map((m) => m.id)).toEqual([hit!.id]);
    expect(store.queryMessages({ search: 'cake xᦰy' }).items.map((m) => m.id)).toEqual([hit!.id]);
  });
});
