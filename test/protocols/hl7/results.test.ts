import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resultSchema, type Result } from '../../../src-shared/results';
import { parseHl7, type Hl7Segment } from '../../../src-main/protocols/hl7/message';
import {
  abnormalFlags,
  extractResults,
  observationValue,
} from '../../../src-main/protocols/hl7/results';
import { hl7DateTimeToIso } from '../../../src-main/protocols/hl7/time';
import { fixtureText } from './support';

function resultsOf(name: string): Result[] {
  const results = extractResults(parseHl7(fixtureText(name)));
  for (const result of results) resultSchema.parse(result);
  return results;
}

const base = { units: null, flags: null, status: null, observedAt: null };

describe('extractResults', () => {
  it('reads a hematology ORU^R01 whose SPM follows its OBX', () => {
    const at = '2024-03-15T08:22:00';
    const tube = { sampleId: 'TUBE-5531', patientId: 'PAT0042' };
    expect(resultsOf('oru-r01-hematology.hl7')).toEqual([
      {
        ...tube,
        testCode: '6690-2',
        value: '7.8',
        units: '10*3/uL',
        flags: 'N',
        status: 'F',
        observedAt: at,
      },
      {
        ...tube,
        testCode: '789-8',
        value: '4.12',
        units: '10*6/uL',
        flags: 'L',
        status: 'F',
        observedAt: at,
      },
      {
        ...tube,
        testCode: '718-7',
        value: '12.9',
        units: 'g/dL',
        flags: 'N',
        status: 'F',
        observedAt: at,
      },
      {
        ...tube,
        testCode: '777-3',
        value: '512',
        units: '10*3/uL',
        flags: 'H~A',
        status: 'F',
        observedAt: at,
      },
      {
        ...base,
        ...tube,
        testCode: 'NRBC-FLAG',
        value: 'NRBC present & review smear',
        flags: 'A',
        status: 'F',
        observedAt: '2024-03-15T08:15:00',
      },
      {
        ...base,
        ...tube,
        testCode: 'COMMENT',
        value: 'Sample lipemic^icteric: see | notes\nRepeat advised',
        status: 'C',
        observedAt: '2024-03-15T08:22:30',
      },
      {
        ...base,
        ...tube,
        testCode: 'PLT-CLUMP',
        value: '>1000',
        units: '/uL',
        status: 'P',
        observedAt: at,
      },
      {
        sampleId: 'ORD7782',
        patientId: 'PAT0042',
        testCode: '4544-3',
        value: '38.5',
        units: '%',
        flags: 'N',
        status: 'F',
        observedAt: '2024-03-15T08:16:00',
      },
    ]);
  });

  it('reads a v2.3.1 chemistry ORU^R01 without SPM, two patients', () => {
    expect(resultsOf('oru-r01-chemistry-v231.hl7')).toEqual([
      {
        sampleId: 'S-5001',
        patientId: 'P-1001',
        testCode: 'GLU',
        value: '5.4',
        units: 'mmol/L',
        flags: 'N',
        status: 'F',
        observedAt: '2024-01-02T09:25:00',
      },
      {
        sampleId: 'S-5001',
        patientId: 'P-1001',
        testCode: 'CREA',
        value: '88',
        units: 'umol/L',
        flags: 'N',
        status: 'F',
        observedAt: '2024-01-02T09:25:10',
      },
      {
        sampleId: 'PL-77',
        patientId: 'P-1002',
        testCode: 'NA',
        value: '141',
        units: 'mmol/L',
        flags: null,
        status: 'F',
        observedAt: '2024-01-02T09:17:00-05:00',
      },
    ]);
  });

  it('reads an OUL^R22 whose SPM precedes the orders it covers', () => {
    const who = { patientId: 'PAT-77' };
    expect(resultsOf('oul-r22-law.hl7')).toEqual([
      {
        ...base,
        ...who,
        sampleId: 'SPEC-001',
        testCode: 'SVOL',
        value: '0.5',
        units: 'mL',
        status: 'F',
      },
      {
        ...who,
        sampleId: 'SPEC-001',
        testCode: '2345-7',
        value: '98',
        units: 'mg/dL',
        flags: 'N',
        status: 'F',
        observedAt: '2024-04-01T10:10:00',
      },
      {
        ...who,
        sampleId: 'SPEC-001',
        testCode: '1975-2',
        value: '0.8',
        units: 'mg/dL',
        flags: 'N',
        status: 'F',
        observedAt: '2024-04-01T10:10:10',
      },
      {
        ...who,
        sampleId: 'SPEC-002-F',
        testCode: '2160-0',
        value: '1.1',
        units: 'mg/dL',
        flags: 'N',
        status: 'F',
        observedAt: '2024-04-01T10:00:00',
      },
    ]);
  });

  it('reads messages with custom delimiters', () => {
    expect(resultsOf('custom-encoding-hash.hl7')).toEqual([
      {
        ...base,
        sampleId: 'SMP-9',
        patientId: 'PAT-9',
        testCode: 'NOTE',
        value: 'a$b ! c # d % e ? f|g^h~i&j\\k',
        status: 'F',
      },
      {
        ...base,
        sampleId: 'SMP-9',
        patientId: 'PAT-9',
        testCode: 'GLU',
        value: '5.1',
        units: 'mmol/L',
        flags: 'N~H',
        status: 'F',
      },
    ]);
    expect(resultsOf('custom-encoding-dollar.hl7')).toEqual([
      {
        ...base,
        sampleId: 'SMP-10',
        patientId: 'PAT-10',
        testCode: 'GLU',
        value: '5.1',
        units: 'mmol/L',
        flags: 'N',
        status: 'F',
      },
      {
        ...base,
        sampleId: 'SMP-10',
        patientId: 'PAT-10',
        testCode: 'TXT',
        value: '100$200 # x^y&z~w',
        status: 'F',
      },
    ]);
  });

  it('gives nulls for what a bare OBX lacks', () => {
    expect(extractResults(parseHl7('MSH|^~\\&|A\rOBX|1|ST|  \r'))).toEqual([
      { sampleId: null, patientId: null, testCode: null, value: null, ...base },
    ]);
  });

  it('joins repeated and coded values', () => {
    const message = parseHl7(
      'MSH|^~\\&|A\rOBX|1|CWE|ORG||E. coli^Escherichia coli^SCT~KLEPN^Klebsiella^SCT\rOBX|2|SN|T||^1^:^128',
    );
    expect(extractResults(message).map((r) => r.value)).toEqual([
      'E. coli^Escherichia coli^SCT, KLEPN^Klebsiella^SCT',
      '1:128',
    ]);
  });
});

describe('hl7DateTimeToIso', () => {
  it('converts DTM values to ISO-8601', () => {
    expect(hl7DateTimeToIso('20240101115500')).toBe('2024-01-01T11:55:00');
    expect(hl7DateTimeToIso('20240101115500+0100')).toBe('2024-01-01T11:55:00+01:00');
    expect(hl7DateTimeToIso('202401011155-0530')).toBe('2024-01-01T11:55:00-05:30');
    expect(hl7DateTimeToIso('20240101115500.123')).toBe('2024-01-01T11:55:00.123');
    expect(hl7DateTimeToIso('2024010111')).toBe('2024-01-01T11:00:00');
    expect(hl7DateTimeToIso('20240101')).toBe('2024-01-01');
    expect(hl7DateTimeToIso('202401')).toBe('2024-01');
    expect(hl7DateTimeToIso(' ')).toBeNull();
  });

  it('keeps a value that is not a DTM rather than lose it', () => {
    expect(hl7DateTimeToIso('yesterday')).toBe('yesterday');
    expect(hl7DateTimeToIso('20241301')).toBe('20241301');
  });
});

describe('OBX-5 and OBX-8 read the same whether plain or not', () => {
  /** The full reading, field by field, that a plain field may skip. */
  function fullValue(obx: Hl7Segment): string | null {
    if (obx.raw(5) === '') return null;
    const type = obx.value(2).trim().toUpperCase();
    const repetitions = obx.field(5).map((repetition) => {
      const components = repetition.map((component) => component.join('&'));
      if (type === 'SN') return components.join('').trim();
      let end = components.length;
      while (end > 1 && components[end - 1] === '') end--;
      return components.slice(0, end).join('^');
    });
    const joined = repetitions.join(type === 'TX' || type === 'FT' ? '\n' : ', ').trim();
    return joined === '' ? null : joined;
  }
  function fullFlags(obx: Hl7Segment): string | null {
    const flags: string[] = [];
    for (let r = 1; r <= obx.repetitionCount(8); r++) {
      const flag = obx.value(8, 1, 1, r).trim();
      if (flag !== '') flags.push(flag);
    }
    return flags.length === 0 ? null : flags.join('~');
  }

  it('for any field contents, data type and delimiters', () => {
    const field = fc.string({
      unit: fc.constantFrom('1', '.', 'a', ' ', '^', '~', '&', '\\', 'H', 'T', 'X', '#', '$'),
      maxLength: 12,
    });
    const type = fc.constantFrom('NM', 'SN', 'TX', 'FT', 'ST', 'CWE', ' sn ');
    fc.assert(
      fc.property(fc.boolean(), type, field, field, (hash, t, value, flags) => {
        // The second set of delimiters makes `#` and `$` special and `^`, `&` plain.
        const msh = hash ? 'MSH|#~$\\|' : 'MSH|^~\\&|';
        const message = parseHl7(`${msh}A|B\rOBX|1|${t}|GLU||${value}|||${flags}`);
        const obx = message.segment('OBX')!;
        expect(observationValue(obx)).toBe(fullValue(obx));
        expect(abnormalFlags(obx)).toBe(fullFlags(obx));
      }),
      { numRuns: 3000 },
    );
  });
});
