import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AstmRecord,
  DEFAULT_DELIMITERS,
  areValidDelimiters,
  bytesToText,
  decodeRecords,
  encodeRecord,
  encodeRecords,
  escapeText,
  readDelimiters,
  splitRecordLines,
  textToBytes,
  unescapeText,
  type AstmDelimiters,
  type AstmField,
} from '../../../src-main/protocols/astm/records';

const GENEXPERT: AstmDelimiters = { field: '|', repeat: '@', component: '^', escape: '\\' };

describe('delimiters from the H record', () => {
  it('reads the common H|\\^& declaration', () => {
    expect(readDelimiters('H|\\^&|||ACME')).toEqual({
      delimiters: DEFAULT_DELIMITERS,
      problem: null,
    });
  });

  it("reads GeneXpert's H|@^\\| (repeat @, component ^, escape \\)", () => {
    expect(readDelimiters('H|@^\\|URM-8lT4abZA-06||x')).toEqual({
      delimiters: GENEXPERT,
      problem: null,
    });
  });

  it('reads any field delimiter and a declaration at the very end of the record', () => {
    expect(readDelimiters('H!~#%').delimiters).toEqual({
      field: '!',
      repeat: '~',
      component: '#',
      escape: '%',
    });
  });

  it('reports an unusable declaration and fills in without collisions', () => {
    const short = readDelimiters('H|\\^|||X');
    expect(short.problem).toContain('does not give three distinct');
    expect(short.delimiters.field).toBe('|');
    expect(short.delimiters.repeat).toBe('\\');
    expect(short.delimiters.component).toBe('^');
    expect(areValidDelimiters(short.delimiters)).toBe(true);

    const clash = readDelimiters('H|^^&|');
    expect(clash.problem).not.toBeNull();
    expect(areValidDelimiters(clash.delimiters)).toBe(true);

    const letter = readDelimiters('HA\\^&');
    expect(letter.problem).toContain('no usable field delimiter');
    expect(letter.delimiters).toBe(DEFAULT_DELIMITERS);

    const crowded = readDelimiters('H&%$&x');
    expect(crowded.problem).not.toBeNull();
    expect(crowded.delimiters).toEqual({ field: '&', repeat: '%', component: '$', escape: '\\' });

    const long = readDelimiters('H|\\^&~|');
    expect(long.problem).toContain('more than three characters');
    expect(long.delimiters).toEqual(DEFAULT_DELIMITERS);
  });
});

describe('escapes', () => {
  it('decodes &F& &S& &R& &E& with the message escape character', () => {
    expect(unescapeText('a&F&b&S&c&R&d&E&e', DEFAULT_DELIMITERS)).toBe('a|b^c\\d&e');
    expect(unescapeText('a\\F\\b\\S\\c\\R\\d\\E\\e', GENEXPERT)).toBe('a|b^c@d\\e');
  });

  it('decodes &Xhhhh& hex, drops &H& / &N& highlighting, keeps unknown sequences', () => {
    expect(unescapeText('&X4142&C', DEFAULT_DELIMITERS)).toBe('ABC');
    expect(unescapeText('x&X0D0a&y', DEFAULT_DELIMITERS)).toBe('x\r\ny');
    expect(unescapeText('&H&bold&N& text', DEFAULT_DELIMITERS)).toBe('bold text');
    expect(unescapeText('&Zlocal&', DEFAULT_DELIMITERS)).toBe('&Zlocal&');
    expect(unescapeText('&X4G&', DEFAULT_DELIMITERS)).toBe('&X4G&');
    expect(unescapeText('&X414&', DEFAULT_DELIMITERS)).toBe('&X414&');
    expect(unescapeText('Tom & Jerry & co', DEFAULT_DELIMITERS)).toBe('Tom & Jerry & co');
    expect(unescapeText('AT&T', DEFAULT_DELIMITERS)).toBe('AT&T');
    expect(unescapeText('50&&F&', DEFAULT_DELIMITERS)).toBe('50&|');
    expect(unescapeText('&&', DEFAULT_DELIMITERS)).toBe('&&');
  });

  it('escapes delimiters, the escape character, CR and LF', () => {
    expect(escapeText('a|b^c\\d&e', DEFAULT_DELIMITERS)).toBe('a&F&b&S&c&R&d&E&e');
    expect(escapeText('a|b^c@d\\e', GENEXPERT)).toBe('a\\F\\b\\S\\c\\R\\d\\E\\e');
    expect(escapeText('x\ry\nz', DEFAULT_DELIMITERS)).toBe('x&X0D&y&X0A&z');
    expect(escapeText('plain', DEFAULT_DELIMITERS)).toBe('plain');
  });

  it('round trips with custom delimiters', () => {
    const custom: AstmDelimiters = { field: '!', repeat: '~', component: '#', escape: '%' };
    const text = 'value! with ~ all # four % and &|\\^ of the others\r\n';
    const escaped = escapeText(text, custom);
    expect(escaped).not.toMatch(/[!~#\r\n]/u);
    expect(unescapeText(escaped, custom)).toBe(text);
  });
});

describe('AstmRecord', () => {
  const result = new AstmRecord(
    'R|1|^^^GLU\\^^^NA|5.4&S&x|mmol/L^SI|3.9 to 6.1|N||F||||20240101115500',
  );

  it('numbers fields as the standard does: field 1 is the type letter', () => {
    expect(result.type).toBe('R');
    expect(result.known).toBe(true);
    expect(result.level).toBe(3);
    expect(result.raw(1)).toBe('R');
    expect(result.raw(3)).toBe('^^^GLU\\^^^NA');
    expect(result.raw(13)).toBe('20240101115500');
    expect(result.raw(14)).toBe('');
    expect(result.fieldCount).toBe(13);
  });

  it('reads repeats and components, escapes decoded', () => {
    expect(result.repeats(3)).toEqual([
      ['', '', '', 'GLU'],
      ['', '', '', 'NA'],
    ]);
    expect(result.component(3, 4)).toBe('GLU');
    expect(result.component(3, 4, 2)).toBe('NA');
    expect(result.component(3, 5)).toBe('');
    expect(result.component(3, 1, 3)).toBe('');
    expect(result.components(5)).toEqual(['mmol/L', 'SI']);
    expect(result.component(4)).toBe('5.4^x');
    expect(result.components(20)).toEqual([]);
  });

  it('shapes fields for JSON by what they hold', () => {
    expect(result.field(2)).toBe('1');
    expect(result.field(4)).toBe('5.4^x');
    expect(result.field(5)).toEqual(['mmol/L', 'SI']);
    expect(result.field(3)).toEqual([
      ['', '', '', 'GLU'],
      ['', '', '', 'NA'],
    ]);
    expect(JSON.parse(JSON.stringify(result))).toEqual({
      type: 'R',
      fields: [
        'R',
        '1',
        [
          ['', '', '', 'GLU'],
          ['', '', '', 'NA'],
        ],
        '5.4^x',
        ['mmol/L', 'SI'],
        '3.9 to 6.1',
        'N',
        '',
        'F',
        '',
        '',
        '',
        '20240101115500',
      ],
    });
  });

  it('keeps the H record delimiter declaration as one field', () => {
    const h = new AstmRecord('H|@^\\|ID-1||Lab^GX');
    expect(h.delimiters).toEqual(GENEXPERT);
    expect(h.field(2)).toBe('@^\\');
    expect(h.components(2)).toEqual(['@^\\']);
    expect(h.component(2)).toBe('@^\\');
    expect(h.repeats(2)).toEqual([['@^\\']]);
    expect(h.field(5)).toEqual(['Lab', 'GX']);
    expect(h.level).toBe(0);
  });

  it('reads record type letters case-insensitively and keeps unknown types with a problem', () => {
    expect(new AstmRecord('r|1|^^^K|4.0').type).toBe('R');
    expect(new AstmRecord('l|1|N').problem).toBeNull();
    const odd = new AstmRecord('X|1|something');
    expect(odd.type).toBe('X');
    expect(odd.known).toBe(false);
    expect(odd.level).toBeNull();
    expect(odd.problem).toBe('unknown record type "X" in "X|1|something"');
    expect(odd.raw(3)).toBe('something');
    expect(new AstmRecord('\u0001|x').problem).toContain('"<01>"');
  });
});

describe('decodeRecords', () => {
  it('splits at CR, CR LF and bare LF, dropping blank lines', () => {
    const text = 'H|\\^&\rP|1\r\nO|1|S1\n\r\n  \rR|1|^^^A|1\rL|1|N';
    expect(decodeRecords(text).map((r) => r.text)).toEqual([
      'H|\\^&',
      'P|1',
      'O|1|S1',
      'R|1|^^^A|1',
      'L|1|N',
    ]);
    expect(splitRecordLines('a\r\nb\nc').offsets).toEqual([0, 3, 5]);
  });

  it('lets every H record set the delimiters for the records after it', () => {
    const records = decodeRecords(
      'H|\\^&\rR|1|^^^A\\^^^B|1\rL|1|N\rH!~#%\rR!1!###C~###D!2\rL!1!N\rR!2!###E',
    );
    expect(records.map((r) => r.component(3, 4, 2))).toEqual(['', 'B', '', '', 'D', '', '']);
    expect(records[6]!.delimiters.field).toBe('!');
    expect(records[6]!.component(3, 4)).toBe('E');
  });

  it('uses the given delimiters for records before any H', () => {
    const [r] = decodeRecords('R!1!###GLU', {
      field: '!',
      repeat: '~',
      component: '#',
      escape: '%',
    });
    expect(r!.component(3, 4)).toBe('GLU');
  });
});

describe('encodeRecord', () => {
  it('writes the worked example records', () => {
    expect(
      encodeRecord(['H', null, null, null, ['ACME', 'AN1', '1.0'], null, null, null, null, null]),
    ).toBe('H|\\^&|||ACME^AN1^1.0');
    expect(encodeRecord(['R', '1', ['', '', '', 'GLU'], '5.4', 'mmol/L', '', '', null])).toBe(
      'R|1|^^^GLU|5.4|mmol/L',
    );
    expect(encodeRecord(['L', '1', 'N'])).toBe('L|1|N');
  });

  it('omits trailing empty fields, repeats and components but keeps inner ones', () => {
    expect(encodeRecord(['O', '1', '', '', [['', '', '', 'A'], ['', '', '', 'B'], [], '']])).toBe(
      'O|1|||^^^A\\^^^B',
    );
    expect(encodeRecord(['P', '1', ['X', '', null]])).toBe('P|1|X');
    expect(encodeRecord(['P', '1', ['', 'Y']])).toBe('P|1|^Y');
  });

  it('always writes the H declaration from the delimiters in use', () => {
    expect(encodeRecord(['H'], GENEXPERT)).toBe('H|@^\\');
    expect(encodeRecord(['H', 'ignored', 'ID'], GENEXPERT)).toBe('H|@^\\|ID');
  });

  it('escapes values and CR-terminates records', () => {
    expect(
      encodeRecords([
        ['C', '1', 'L', 'a|b^c', 'G'],
        ['L', '1'],
      ]),
    ).toBe('C|1|L|a&F&b&S&c|G\rL|1\r');
  });
});

describe('bytes and text', () => {
  it('uses Latin-1 unless told otherwise', () => {
    const bytes = Buffer.from([0x52, 0x7c, 0xb5, 0x67]);
    expect(bytesToText(bytes)).toBe('R|µg');
    expect(bytesToText(Buffer.from('R|µg', 'utf8'), 'utf8')).toBe('R|µg');
    expect(bytesToText(new Uint8Array([0x41, 0xe9]))).toBe('Aé');
    expect(textToBytes('R|µg')).toEqual(bytes);
    expect(textToBytes('R|µg', 'utf8')).toEqual(Buffer.from('R|µg', 'utf8'));
  });

  it('sends ? for characters Latin-1 cannot hold instead of corrupting them', () => {
    expect(textToBytes('5 µmol → 6 😀').toString('latin1')).toBe('5 µmol ? 6 ?');
  });
});

// -------------------------------------------------------------------------------------------
// Properties

/** Four distinct printable, non-alphanumeric, non-space characters. */
const delimiterSets = fc
  .uniqueArray(fc.constantFrom(...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'), {
    minLength: 4,
    maxLength: 4,
  })
  .map(([field, repeat, component, escape]) => ({
    field: field!,
    repeat: repeat!,
    component: component!,
    escape: escape!,
  }));

/** Values drawn to hit the delimiters, escape-like text, CR/LF and non-ASCII often. */
function leaf(d: AstmDelimiters): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(
      d.field,
      d.repeat,
      d.component,
      d.escape,
      `${d.escape}F${d.escape}`,
      `${d.escape}X41${d.escape}`,
      '\r',
      '\n',
      ' ',
      'µ',
      '&',
      '|',
    ),
    fc.string({ maxLength: 6 }),
    fc.string({ unit: 'binary', maxLength: 3 }),
  );
  return fc.array(piece, { maxLength: 5 }).map((parts) => parts.join(''));
}

function fieldsArbitrary(d: AstmDelimiters): fc.Arbitrary<string[][][]> {
  const components = fc.array(leaf(d), { minLength: 1, maxLength: 4 });
  const field = fc.array(components, { minLength: 1, maxLength: 3 });
  return fc.array(field, { maxLength: 8 });
}

/** Canonical form: repeats → components with the trailing empties the encoder omits removed. */
function canonical(fields: readonly (string[][] | AstmField)[]): string[][][] {
  const shaped = fields.map((f): string[][] => {
    if (typeof f === 'string') return [[f]];
    if (f.some((x) => Array.isArray(x))) return (f as string[][]).map((rep) => [...rep]);
    return [[...(f as string[])]];
  });
  const out = shaped.map((reps) => {
    const trimmedReps = reps.map((comps) => {
      let end = comps.length;
      while (end > 0 && comps[end - 1] === '') end--;
      return comps.slice(0, end);
    });
    let end = trimmedReps.length;
    while (end > 0 && trimmedReps[end - 1]!.length === 0) end--;
    return trimmedReps.slice(0, end);
  });
  let end = out.length;
  while (end > 0 && out[end - 1]!.length === 0) end--;
  return out.slice(0, end);
}

describe('properties', () => {
  it('encode → decode gives the same fields for any content and delimiter set', () => {
    fc.assert(
      fc.property(
        delimiterSets.chain((d) =>
          fc.tuple(fc.constant(d), fc.constantFrom(...'PORCQSML'), fieldsArbitrary(d)),
        ),
        ([d, type, rest]) => {
          const text = encodeRecord([type, ...rest], d);
          expect(text).not.toMatch(/[\r\n]/u);
          const record = new AstmRecord(text, d);
          expect(record.type).toBe(type);
          const decoded = record.fields().slice(1);
          expect(canonical(decoded)).toEqual(canonical(rest));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('an H record declares its delimiters and the records after it follow them', () => {
    fc.assert(
      fc.property(
        delimiterSets.chain((d) => fc.tuple(fc.constant(d), leaf(d), fieldsArbitrary(d))),
        ([d, sender, rest]) => {
          const text = encodeRecords(
            [
              ['H', null, null, null, [sender, 'x']],
              ['R', ...rest],
              ['L', '1', 'N'],
            ],
            d,
          );
          const [h, r, l] = decodeRecords(text);
          expect(h!.delimiters).toEqual(d);
          expect(h!.problem).toBeNull();
          expect(h!.component(5)).toBe(sender);
          expect(canonical(r!.fields().slice(1))).toEqual(canonical(rest));
          expect(l!.component(3)).toBe('N');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('escape → unescape is the identity for any text and delimiter set', () => {
    fc.assert(
      fc.property(
        delimiterSets.chain((d) => fc.tuple(fc.constant(d), leaf(d))),
        ([d, text]) => {
          const escaped = escapeText(text, d);
          for (const ch of [d.field, d.repeat, d.component, '\r', '\n']) {
            expect(escaped.includes(ch)).toBe(false);
          }
          expect(unescapeText(escaped, d)).toBe(text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('UTF-8 records survive text → bytes → text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (value) => {
        const text = encodeRecord(['R', '1', ['', '', '', 'T'], value]);
        const back = bytesToText(textToBytes(text, 'utf8'), 'utf8');
        expect(new AstmRecord(back).component(4)).toBe(value);
      }),
    );
  });
});
