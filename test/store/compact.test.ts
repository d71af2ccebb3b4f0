import { describe, expect, it } from 'vitest';
import type { StoredResult } from '../../src-shared/results';
import {
  resultsFromJson,
  resultsToJson,
  storedText,
  textIsRaw,
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
