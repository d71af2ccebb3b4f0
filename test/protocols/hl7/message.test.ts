import { describe, expect, it } from 'vitest';
import { DEFAULT_ENCODING, type Hl7Encoding } from '../../../src-main/protocols/hl7/encoding';
import { escapeHl7, unescapeHl7 } from '../../../src-main/protocols/hl7/escape';
import {
  Hl7ParseError,
  parseHl7,
  parseHl7Full,
  readEncoding,
} from '../../../src-main/protocols/hl7/message';
import { serializeHl7 } from '../../../src-main/protocols/hl7/serializer';
import { fixtureText } from './support';

describe('parseHl7', () => {
  const hematology = parseHl7(fixtureText('oru-r01-hematology.hl7'));

  it('reads the header', () => {
    expect(hematology.msh).toEqual({
      fieldSeparator: '|',
      encodingCharacters: '^~\\&',
      sendingApplication: 'XN-550',
      sendingFacility: 'HEMA-LAB',
      receivingApplication: 'LIS',
      receivingFacility: 'CITY-HOSP',
      dateTime: '20240315083012+0100',
      messageType: { code: 'ORU', trigger: 'R01', structure: 'ORU_R01' },
      controlId: 'XN0001234',
      processingId: 'P',
      version: '2.5.1',
      acceptAck: '',
      appAck: '',
      charset: '',
    });
    expect(hematology.errors).toEqual([]);
  });

  it('numbers MSH fields from the separator', () => {
    const msh = hematology.segment('MSH')!;
    expect(msh.raw(1)).toBe('|');
    expect(msh.raw(2)).toBe('^~\\&');
    expect(msh.raw(3)).toBe('XN-550^SYSMEX');
    expect(msh.value(3, 2)).toBe('SYSMEX');
    expect(msh.field(2)).toEqual([[['^~\\&']]]);
    expect(msh.fieldCount).toBe(12);
  });

  it('reads fields, repetitions, components and subcomponents', () => {
    const pid = hematology.segment('PID')!;
    expect(pid.value(3)).toBe('PAT0042');
    expect(pid.value(3, 1, 1, 2)).toBe('NHS9876543');
    expect(pid.value(3, 5, 1, 2)).toBe('NH');
    expect(pid.repetitionCount(3)).toBe(2);
    expect(pid.field(5)).toEqual([[['MARTIN'], ['ANNA']]]);
    const spm = hematology.segment('SPM')!;
    expect(spm.value(2, 1, 2)).toBe('HEMA-LAB');
    expect(spm.field(2)).toEqual([
      [
        ['TUBE-5531', 'HEMA-LAB'],
        ['FIL-88231', 'HEMA-LAB'],
      ],
    ]);
    expect(hematology.get('OBX', 5)).toBe('7.8');
    expect(hematology.segment('OBX', 4)!.value(8, 1, 1, 2)).toBe('A');
    expect(hematology.get('OBX', 99)).toBe('');
    expect(hematology.get('ZZZ', 1)).toBe('');
  });

  it('decodes escapes with the message’s own escape character', () => {
    expect(hematology.segment('OBX', 5)!.value(5)).toBe('NRBC present & review smear');
    expect(hematology.segment('OBX', 6)!.field(5)).toEqual([
      [['Sample lipemic^icteric: see | notes']],
      [['Repeat advised']],
    ]);
    const hash = parseHl7(fixtureText('custom-encoding-hash.hl7'));
    expect(hash.encoding).toEqual({
      field: '#',
      component: '$',
      repetition: '%',
      escape: '?',
      subcomponent: '!',
      truncation: '',
    });
    expect(hash.segment('OBX')!.value(5)).toBe('a$b ! c # d % e ? f|g^h~i&j\\k');
    expect(hash.msh.messageType).toEqual({ code: 'ORU', trigger: 'R01', structure: 'ORU_R01' });
    expect(hash.segment('PID')!.value(3, 1, 1, 2)).toBe('ALT-1');
  });

  it('reads MSH-2 with a truncation character and with fewer than four characters', () => {
    const v27 = parseHl7('MSH|^~\\&#|A|B\rOBX|1|ST|X||a\\P\\b#c');
    expect(v27.encoding.truncation).toBe('#');
    expect(v27.segment('OBX')!.value(5)).toBe('a#b#c');
    const short = parseHl7('MSH|^~|A\rPID|1||a^b~c\\d&e');
    expect(short.encoding).toMatchObject({
      component: '^',
      repetition: '~',
      escape: '',
      subcomponent: '',
    });
    expect(short.segment('PID')!.field(3)).toEqual([[['a'], ['b']], [['c\\d&e']]]);
  });

  it('falls back to ^~\\& with an error when MSH-2 is unusable', () => {
    const repeated = parseHl7('MSH|^^\\&|A\rPID|1||x^y');
    expect(repeated.errors.map((e) => e.code)).toEqual(['HL7_BAD_MSH']);
    expect(repeated.segment('PID')!.value(3, 2)).toBe('y');
    const empty = parseHl7('MSH||A');
    expect(empty.encoding).toEqual(DEFAULT_ENCODING);
    expect(empty.errors[0]!.message).toMatch(/missing/);
  });

  it('throws a coded error when there is no usable MSH', () => {
    expect(() => parseHl7('PID|1||X')).toThrowError(Hl7ParseError);
    expect(() => parseHl7('')).toThrowError(/empty/);
    expect(() => parseHl7('MSH')).toThrowError(expect.objectContaining({ code: 'HL7_BAD_MSH' }));
    expect(() => parseHl7('MSHA^~\\&')).toThrowError(
      expect.objectContaining({ code: 'HL7_BAD_MSH' }),
    );
  });

  it('accepts CR, LF and CR LF between segments and skips blank lines', () => {
    const lines = ['MSH|^~\\&|A', 'PID|1||P1', 'OBX|1|NM|GLU||5'];
    for (const eol of ['\r', '\n', '\r\n', '\r\r\n\n']) {
      const message = parseHl7(lines.join(eol) + eol);
      expect(message.segments.map((s) => s.name)).toEqual(['MSH', 'PID', 'OBX']);
      expect(message.get('OBX', 5)).toBe('5');
    }
  });

  it('flags lines that are not segments but keeps reading', () => {
    const message = parseHl7('MSH|^~\\&|A\rthis is not a segment\rOBX|1|NM|GLU||5');
    expect(message.errors.map((e) => e.code)).toEqual(['HL7_BAD_SEGMENT']);
    expect(message.get('OBX', 5)).toBe('5');
  });

  it('builds the same full tree lazily and eagerly', () => {
    const text = fixtureText('oru-r01-hematology.hl7');
    const full = parseHl7Full(text);
    expect(parseHl7(text).toJSON()).toEqual(full);
    expect(full.segments[0]!.fields[0]).toEqual([[['|']]]);
    expect(full.segments[0]!.fields[8]).toEqual([[['ORU'], ['R01'], ['ORU_R01']]]);
    expect(full.segments.find((s) => s.name === 'SPM')!.fields[1]).toEqual([
      [
        ['TUBE-5531', 'HEMA-LAB'],
        ['FIL-88231', 'HEMA-LAB'],
      ],
    ]);
  });

  it('keeps the segments as received in toString()', () => {
    const text = fixtureText('oru-r01-hematology.hl7');
    expect(parseHl7(text).toString()).toBe(text);
  });
});

describe('escapes', () => {
  const e: Hl7Encoding = DEFAULT_ENCODING;

  it('decodes every standard sequence', () => {
    expect(unescapeHl7('\\F\\\\S\\\\T\\\\R\\\\E\\', e)).toBe('|^&~\\');
    expect(unescapeHl7('a\\H\\bold\\N\\b', e)).toBe('aboldb');
    expect(unescapeHl7('line 1\\.br\\line 2', e)).toBe('line 1\nline 2');
    expect(unescapeHl7('a\\.sp 2\\b\\.in 4\\c', e)).toBe('a\n\nbc');
    expect(unescapeHl7('\\X41\\\\X0D0A\\', e)).toBe('A\r\n');
    expect(unescapeHl7('\\XC2B5\\mol', e, 'utf8')).toBe('µmol');
    expect(unescapeHl7('\\XB5\\mol', e, 'latin1')).toBe('µmol');
    expect(unescapeHl7('a\\C2842\\b\\M248440\\c', e)).toBe('abc');
  });

  it('keeps what it cannot interpret', () => {
    expect(unescapeHl7('\\Zlocal\\', e)).toBe('\\Zlocal\\');
    expect(unescapeHl7('C:\\data\\x', e)).toBe('C:\\data\\x');
    expect(unescapeHl7('trailing \\', e)).toBe('trailing \\');
    expect(unescapeHl7('\\XZZ\\ \\X1\\', e)).toBe('\\XZZ\\ \\X1\\');
    expect(unescapeHl7('\\P\\', e)).toBe('\\P\\');
  });

  it('escapes delimiters, the escape character and line breaks', () => {
    expect(escapeHl7('a|b^c&d~e\\f', e)).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f');
    expect(escapeHl7('1\r\n2', e)).toBe('1\\X0D\\\\.br\\2');
    expect(escapeHl7('plain', e)).toBe('plain');
    const custom: Hl7Encoding = { ...e, field: '#', component: '$', escape: '?', truncation: '!' };
    expect(escapeHl7('#$?!|', custom)).toBe('?F??S??E??P?|');
  });
});

describe('serializeHl7', () => {
  it('writes MSH-1 and MSH-2 from the encoding and escapes values', () => {
    const text = serializeHl7({
      encoding: { ...DEFAULT_ENCODING, field: '#', component: '$' },
      segments: [
        {
          name: 'MSH',
          fields: ['', '', 'APP', 'FAC', '', '', '', '', [[['ORU'], ['R01']]], 'ID1'],
        },
        { name: 'OBX', fields: ['1', 'ST', 'X', '', 'a#b$c'] },
      ],
    });
    expect(text).toBe('MSH#$~\\&#APP#FAC#####ORU$R01#ID1\rOBX#1#ST#X##a\\F\\b\\S\\c\r');
    expect(parseHl7(text).segment('OBX')!.value(5)).toBe('a#b$c');
  });

  it('re-writes a parsed message in other delimiters without changing its content', () => {
    const original = parseHl7(fixtureText('custom-encoding-hash.hl7'));
    const rewritten = serializeHl7({ ...original.toJSON(), encoding: DEFAULT_ENCODING });
    expect(rewritten.startsWith('MSH|^~\\&|ANALYZER|')).toBe(true);
    const header = { name: 'MSH', fields: [[[['|']]], [[['^~\\&']]]] };
    const [msh, ...rest] = original.toJSON().segments;
    expect(parseHl7(rewritten).toJSON().segments).toEqual([
      { ...header, fields: [...header.fields, ...msh!.fields.slice(2)] },
      ...rest,
    ]);
  });

  it('refuses delimiters that cannot work', () => {
    expect(() =>
      serializeHl7({ encoding: { ...DEFAULT_ENCODING, component: '|' }, segments: [] }),
    ).toThrowError(RangeError);
  });

  it('reads back the encoding the message declares', () => {
    expect(readEncoding('xxMSH|$%?#|A', 2).encoding).toEqual({
      field: '|',
      component: '$',
      repetition: '%',
      escape: '?',
      subcomponent: '#',
      truncation: '',
    });
  });
});
