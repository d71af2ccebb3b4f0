import { describe, expect, it } from 'vitest';
import {
  charsetFor,
  declaredCharset,
  decodeHl7Bytes,
  encodeHl7Text,
} from '../../../src-main/protocols/hl7/charset';
import { decodeHl7 } from '../../../src-main/protocols/hl7/decode';
import { frameMllp } from '../../../src-main/protocols/hl7/mllp';
import { readHl7Payload } from '../../../src-main/protocols/hl7/payload';
import { fixture } from './support';

describe('charsetFor', () => {
  it('maps MSH-18 names to decoders', () => {
    expect(charsetFor('')).toEqual({ charset: 'latin1' });
    expect(charsetFor('', { defaultCharset: 'utf8' })).toEqual({ charset: 'utf8' });
    expect(charsetFor('8859/1')).toEqual({ charset: 'latin1' });
    expect(charsetFor('ASCII')).toEqual({ charset: 'latin1' });
    expect(charsetFor('UNICODE UTF-8')).toEqual({ charset: 'utf8' });
    expect(charsetFor('unicode')).toEqual({ charset: 'utf8' });
    expect(charsetFor('8859/2')).toEqual({ charset: 'iso-8859-2' });
  });

  it('refuses UTF-16 and UTF-32, which cannot travel over MLLP', () => {
    for (const name of ['UNICODE UTF-16', 'UNICODE UTF-32']) {
      const choice = charsetFor(name);
      expect(choice).toHaveProperty('error.code', 'HL7_UNSUPPORTED_CHARSET');
    }
    expect(charsetFor('KLINGON')).toHaveProperty('error.code', 'HL7_UNSUPPORTED_CHARSET');
  });
});

describe('decodeHl7Bytes', () => {
  it('reads Latin-1 bytes by MSH-18 8859/1', () => {
    const bytes = fixture('latin1-8859-1.hl7');
    expect(bytes.includes(Buffer.of(0xb5))).toBe(true); // µ as one byte
    const decoded = decodeHl7Bytes(bytes);
    expect(decoded).toMatchObject({ charset: 'latin1', declared: '8859/1', errors: [] });
    expect(decoded.text).toContain('µmol/L');
    expect(decoded.text).toContain('hémolyse légère');
  });

  it('reads UTF-8 bytes by MSH-18 UNICODE UTF-8', () => {
    const bytes = fixture('utf8-unicode.hl7');
    expect(bytes.includes(Buffer.of(0xc2, 0xb5))).toBe(true); // µ as two bytes
    const decoded = decodeHl7Bytes(bytes);
    expect(decoded).toMatchObject({ charset: 'utf8', declared: 'UNICODE UTF-8', errors: [] });
    expect(decoded.text).toContain('µmol/L');
    expect(decoded.text).toContain('hémolyse légère 溶血');
  });

  it('reads Latin-1 when MSH-18 is empty, unless the link says UTF-8', () => {
    const bytes = Buffer.from('MSH|^~\\&|A\rOBX|1|ST|X||é\r', 'utf8');
    expect(decodeHl7Bytes(bytes).text).toContain('Ã©');
    expect(decodeHl7Bytes(bytes, { defaultCharset: 'utf8' }).text).toContain('|é');
  });

  it('falls back to Latin-1 with an error when the bytes are not what MSH-18 says', () => {
    const bytes = Buffer.concat([
      Buffer.from('MSH|^~\\&|A|||||||ID|P|2.5||||||UNICODE UTF-8\rOBX|1|ST|X||'),
      Buffer.of(0xe9, 0x0d),
    ]);
    const decoded = decodeHl7Bytes(bytes);
    expect(decoded.errors.map((e) => e.code)).toEqual(['HL7_BAD_ENCODING']);
    expect(decoded.charset).toBe('latin1');
    expect(decoded.text).toContain('|é');
  });

  it('refuses UTF-16 with a coded error but still reads what it can', () => {
    const bytes = Buffer.from('MSH|^~\\&|A|||||||ID|P|2.5||||||UNICODE UTF-16\r');
    const decoded = decodeHl7Bytes(bytes);
    expect(decoded.errors.map((e) => e.code)).toEqual(['HL7_UNSUPPORTED_CHARSET']);
    expect(decoded.text).toContain('MSH|');
  });

  it('takes the first repetition of MSH-18 and ignores an MSH without one', () => {
    expect(declaredCharset(Buffer.from('MSH|^~\\&|||||||||||||||| UNICODE UTF-8 ~8859/1\r'))).toBe(
      'UNICODE UTF-8',
    );
    expect(declaredCharset(Buffer.from('MSH|^~\\&|A\r'))).toBe('');
    expect(declaredCharset(Buffer.from('PID|1'))).toBeNull();
  });

  it('decodes a capture message by message, each by its own MSH-18', () => {
    const capture = Buffer.concat([
      frameMllp(fixture('latin1-8859-1.hl7')),
      frameMllp(fixture('utf8-unicode.hl7')),
    ]);
    const [latin, utf] = decodeHl7(capture).messages;
    expect(latin!.charset).toBe('latin1');
    expect(utf!.charset).toBe('utf8');
    const units = (m: typeof latin) => m!.results.map((r) => r.units);
    expect(units(latin)).toContain('µmol/L');
    expect(units(utf)).toContain('µmol/L');
    expect(latin!.results.at(-1)!.value).toBe('hémolyse légère');
    expect(utf!.results.at(-1)!.value).toBe('hémolyse légère 溶血');
    expect(utf!.segments[1]!.fields[4]).toBe('MÜLLER^RENÉ');
  });

  it('writes UTF-8 or Latin-1 bytes', () => {
    expect([...encodeHl7Text('µ', 'utf8')]).toEqual([0xc2, 0xb5]);
    expect([...encodeHl7Text('µ', 'latin1')]).toEqual([0xb5]);
  });
});

describe('readHl7Payload', () => {
  it('parses a payload in its own charset, \\X escapes included', () => {
    const bytes = Buffer.from(
      'MSH|^~\\&|A|||||||ID|P|2.5.1||||||UNICODE UTF-8\rOBX|1|NM|CREA||71|\\XC2B5\\mol/L — µ\r',
      'utf8',
    );
    const read = readHl7Payload(bytes);
    expect(read.charset).toBe('utf8');
    expect(read.errors).toEqual([]);
    expect(read.message!.get('OBX', 6)).toBe('µmol/L — µ');
  });

  it('never throws: no MSH gives a null message and a coded error', () => {
    const read = readHl7Payload(Buffer.from('hello'));
    expect(read.message).toBeNull();
    expect(read.errors.map((e) => e.code)).toEqual(['HL7_NO_MSH']);
  });
});
