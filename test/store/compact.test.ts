import { describe, expect, it } from 'vitest';
import type { StoredResult } from '../../src-shared/results';
import { layoutFrames } from '../../src-main/protocols/astm/frame';
import {
  FRAMES_TEXT,
  FRAMES_TEXT_LATIN1,
  resultsFromJson,
  resultsToJson,
  storedText,
  textColumns,
  textIsRaw,
  textOfFrames,
  textOfRaw,
} from '../../src-main/store/compact';
import { random } from './fixtures';

function randomResults(seed: number): StoredResult[] {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)] as T;
  const text = [null, '', '0', 'S1', 'S2', 'Glucose', '5,4', '[1]', '"q"'];
  return Array.from({ length: Math.floor(rnd() * 25) }, () => ({
    sampleId: rnd() < 0.8 ? 'S26000001' : pick(text),
    patientId: rnd() < 0.8 ? 'P1001' : pick(text),
    testCode: pick(text),
    value: pick(text),
    units: pick(text),
    flags: pick(text),
    status: pick(text),
    observedAt: rnd() < 0.7 ? '20260115093000' : pick(text),
    qc: rnd() < 0.2,
  }));
}

describe('results as one value per message', () => {
  it('reads back exactly what it wrote, whatever the fields hold', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const results = randomResults(seed);
      expect(resultsFromJson(resultsToJson(results))).toEqual(results);
    }
  });

  it('writes what results share once', () => {
    const one: StoredResult = {
      sampleId: 'S26000001',
      patientId: 'P1001',
      testCode: 'GLU',
      value: '5.4',
      units: 'mmol/L',
      flags: 'N',
      status: 'F',
      observedAt: '20260115093000',
      qc: false,
    };
    const json = resultsToJson([one, { ...one, testCode: 'NA', value: '140' }]);
    expect(json).toBe(
      '{"d":["S26000001","P1001","20260115093000"],' +
        '"r":[["GLU","5.4","mmol/L","N","F"],["NA","140","mmol/L","N","F"]]}',
    );
    expect(resultsToJson([])).toBe('{"d":[null,null,null],"r":[]}');
  });

  it('still reads the first form, a full array per result', () => {
    expect(
      resultsFromJson('[["S1","P1","GLU","5.4","mmol/L","N","F","20260115093000",1]]'),
    ).toEqual([
      {
        sampleId: 'S1',
        patientId: 'P1',
        testCode: 'GLU',
        value: '5.4',
        units: 'mmol/L',
        flags: 'N',
        status: 'F',
        observedAt: '20260115093000',
        qc: true,
      },
    ]);
  });
});

describe('the text not stored twice', () => {
  it('is the UTF-8 bytes without one final CR, and only when that gives the text back', () => {
    const text = 'MSH|^~\\&|A\rPID|1||Ö';
    expect(textIsRaw(text, Buffer.from(`${text}\r`, 'utf8'))).toBe(true);
    expect(textIsRaw(text, Buffer.from(text, 'utf8'))).toBe(true);
    expect(textIsRaw(text, Buffer.from(`${text}\r\r`, 'utf8'))).toBe(false);
    expect(textIsRaw(text, Buffer.from(`${text}\r`, 'latin1'))).toBe(false);
    // Bytes that are not UTF-8 decode to U+FFFD, which a text can hold: never derived.
    expect(textIsRaw('\ufffd', Buffer.of(0xff))).toBe(false);
    expect(textOfRaw(Buffer.from('a\rb\r'))).toBe('a\rb');
    expect(storedText('kept', 0, Buffer.from('other'))).toBe('kept');
    expect(storedText('', 1, Buffer.from('MSH|x\r'))).toBe('MSH|x');
  });
});

describe('the ASTM text read from its frames', () => {
  const records = ['H|\\^&|||c311', 'P|1||PÄ1', 'R|1|^^^GLU|5.4|mmol/L'.padEnd(300, 'ü'), 'L|1|N'];
  const text = records.join('\r');
  /** As the gateway stores an ASTM message: its accepted frames concatenated. */
  const framesOf = (maxText: number, encoding: BufferEncoding = 'utf8') =>
    Buffer.concat(
      layoutFrames(
        records.map((r) => Buffer.from(r, encoding)),
        maxText,
      ).map((f) => f.bytes),
    );

  it('is every frame text in order, intermediate frames and split characters included', () => {
    for (const maxText of [1, 2, 7, 64, 240]) {
      const raw = framesOf(maxText);
      expect(textOfFrames(raw)).toBe(text);
      expect(textColumns(text, raw, 'astm')).toEqual({ text: FRAMES_TEXT, isRaw: 1 });
      expect(storedText(FRAMES_TEXT, 1, raw)).toBe(text);
    }
    // Bytes before the first frame (an ENQ) and after the last (an EOT) are no text.
    const session = Buffer.concat([Buffer.of(0x05), framesOf(240), Buffer.of(0x04)]);
    expect(textColumns(text, session, 'astm')).toEqual({ text: FRAMES_TEXT, isRaw: 1 });
  });

  it('is used only when it gives the text back exactly, in UTF-8 or Latin-1', () => {
    const raw = framesOf(240);
    // Latin-1 on the wire (the default of an ASTM link) is read as Latin-1.
    const latin1 = framesOf(7, 'latin1');
    expect(textColumns(text, latin1, 'astm')).toEqual({ text: FRAMES_TEXT_LATIN1, isRaw: 1 });
    expect(storedText(FRAMES_TEXT_LATIN1, 1, latin1)).toBe(text);
    // Another text, a cut message, an HL7 message: stored as is.
    expect(textColumns(`${text}\r`, raw, 'astm')).toEqual({ text: `${text}\r`, isRaw: 0 });
    expect(textColumns(text.slice(0, -1), raw, 'astm').isRaw).toBe(0);
    expect(textColumns(text, raw, 'hl7')).toEqual({ text, isRaw: 0 });
    expect(textColumns(text, raw.subarray(0, raw.length - 40), 'astm').isRaw).toBe(0);
    // Bare records (no frames) are their bytes, as an HL7 message's are.
    expect(textColumns(text, Buffer.from(`${text}\r`), 'astm')).toEqual({ text: '', isRaw: 1 });
    // What the row says decides how it is read, never what the bytes look like.
    expect(storedText('', 1, raw)).toBe(textOfRaw(raw));
    expect(storedText(FRAMES_TEXT, 0, raw)).toBe(FRAMES_TEXT);
  });
});
