import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../../src-shared/results';
import { decodeAstm, type DecodedAstmMessage } from '../../../src-main/protocols/astm/decode';

const FIXTURES = new URL('../../fixtures/astm/', import.meta.url);

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

function decode(name: string): DecodedAstmMessage[] {
  return decodeAstm(fixture(name)).messages;
}

function row(r: Result): (string | null)[] {
  return [r.sampleId, r.patientId, r.testCode, r.value, r.units, r.flags, r.status, r.observedAt];
}

function types(m: DecodedAstmMessage): string {
  return m.records.map((r) => r.type).join('');
}

describe('project fixtures', () => {
  it('packed-frame: a whole message in one frame ending C1 C2 CR, comments after results', () => {
    const raw = fixture('packed-frame.astm');
    expect(raw.indexOf(0x02)).toBe(0);
    expect(raw.lastIndexOf(0x02)).toBe(0);
    expect(raw[raw.length - 4]).toBe(0x03);
    expect(raw.subarray(-3).toString('latin1')).toMatch(/^[0-9A-F]{2}\r$/u);

    const [m, ...rest] = decode('packed-frame.astm');
    expect(rest).toEqual([]);
    expect(m!.errors).toEqual([]);
    expect(types(m!)).toBe('HPORCRCRL');
    expect(m!.header).toMatchObject({
      sender: 'QuickLab 3',
      senderParts: ['QuickLab 3', '', 'QL-000417'],
      version: '1',
      timestamp: '2025-03-02T09:15:00',
    });
    expect(m!.results.map(row)).toEqual([
      ['418', 'PAT-77', 'Alb', '28.1', 'mg/L', null, 'F', '2025-03-02T09:10:12'],
      ['418', 'PAT-77', 'Crt', '112.4', 'mg/dL', null, 'F', '2025-03-02T09:10:12'],
      ['418', 'PAT-77', 'ACR', '25.0', 'mg/g', 'N', 'F', '2025-03-02T09:10:12'],
    ]);
    expect(m!.comments.map((c) => [c.attachedTo, c.parts])).toEqual([
      [3, ['1.000', '0.0 mg/L']],
      [5, ['1.000', '0.0 mg/dL']],
    ]);
    expect(m!.resultSources.map((s) => s.comments)).toEqual([[4], [6], []]);
  });

  it('etb-per-record: every record ends with ETB, only L with ETX, C1 C2 LF, M record', () => {
    const raw = fixture('etb-per-record.astm').toString('latin1');
    expect(raw.split('\x17')).toHaveLength(8);
    expect(raw.split('\x03')).toHaveLength(2);

    const [m, ...rest] = decode('etb-per-record.astm');
    expect(rest).toEqual([]);
    expect(m!.errors).toEqual([]);
    expect(types(m!)).toBe('HPORCMRL');
    expect(m!.results.map(row)).toEqual([
      ['Q7 55120A', null, '687', '15.0', 'U/L', 'N', 'F', '2025-01-15T08:00:40'],
      ['Q7 55120A', null, '690', '34', 'umol/l', 'H', 'F', '2025-01-15T08:00:55'],
    ]);
    expect(m!.records[5]!.field(5)).toEqual([['-12'], ['-11'], ['1'], ['2'], ['3']]);
    expect(m!.records[5]!.field(4)).toBe('-12');
  });

  it('wraparound: one record per frame, numbers 1…7, 0…7, LF-only endings', () => {
    const raw = fixture('wraparound.astm').toString('latin1');
    const numbers = raw
      .split('\x02')
      .slice(1)
      .map((f) => f[0])
      .join('');
    expect(numbers).toBe('123456701234567');
    expect(raw.includes('\r\n')).toBe(false);

    const [m, ...rest] = decode('wraparound.astm');
    expect(rest).toEqual([]);
    expect(m!.errors).toEqual([]);
    expect(m!.results).toHaveLength(10);
    expect(row(m!.results[0]!)).toEqual([
      'H-2025-0410',
      null,
      'WBC',
      '1.5',
      '1',
      null,
      'F',
      '2025-04-10T14:29:50',
    ]);
    expect(row(m!.results[7]!)).toEqual([
      'H-2025-0410',
      null,
      'PLT',
      '12',
      '1',
      'L',
      'F',
      '2025-04-10T14:29:50',
    ]);
    expect(row(m!.results[9]!)).toEqual([
      'H-2025-0410',
      null,
      'MON%',
      '15',
      '1',
      null,
      'F',
      '2025-04-10T14:29:50',
    ]);
    expect(m!.comments).toMatchObject([{ attachedTo: 3, text: 'Alarm_WBC LMNE+ NRBC?' }]);
  });

  it('custom-delimiters: H|@^\\| with @ repeats and \\ escapes decoded', () => {
    const [m, ...rest] = decode('custom-delimiters.astm');
    expect(rest).toEqual([]);
    expect(m!.errors).toEqual([]);
    expect(m!.header).toMatchObject({
      delimiters: { field: '|', repeat: '@', component: '^', escape: '\\' },
      messageControlId: 'MSG-0042',
      sender: 'Ward 7 Clinic',
      receiver: 'LIS-HOST',
    });
    expect(m!.records[2]!.repeats(5)).toEqual([
      ['', '', '', 'MTB-RIF'],
      ['', '', '', 'FLU'],
    ]);
    expect(m!.results.map(row)).toEqual([
      ['SPEC-31', 'PX-9001', 'Xpert', 'DETECTED LOW', null, null, 'F', '2025-06-01T10:10:00'],
      ['SPEC-31', 'PX-9001', 'Xpert', '^21.5', null, null, null, null],
      ['SPEC-31', 'PX-9001', 'Xpert', 'NEGATIVE', null, null, 'F', '2025-06-01T10:10:00'],
    ]);
    expect(m!.comments[0]!.parts).toEqual(['Notes', '', 'Sputum|bloody ^ repeat @ later \\ ok']);
  });

  it('sysmex-style: ^^^^WBC^1 test IDs, padded O-4 and values, &R& inside a value', () => {
    const [m] = decode('sysmex-style.astm');
    expect(m!.errors).toEqual([]);
    expect(m!.header).toMatchObject({ sender: 'XN-350', version: 'E1394-97' });
    expect(m!.results.map(row)).toEqual([
      ['108', '4410', 'WBC', '6.42', '10*3/uL', 'N', 'F', '2025-02-22T11:05:01'],
      ['108', '4410', 'RBC', '4.51', '10*6/uL', 'N', 'F', '2025-02-22T11:05:01'],
      ['108', '4410', 'PLT', '151', '10*3/uL', 'L', 'F', '2025-02-22T11:05:01'],
      ['108', '4410', 'SCAT_WDF', 'PNG\\20250222\\WDF.PNG', null, 'N', 'F', '2025-02-22T11:05:01'],
    ]);
  });

  it('two-messages-split: two messages in one session, an M record split over ETB frames', () => {
    const raw = fixture('two-messages-split.astm').toString('latin1');
    expect(raw.split('\x17').length - 1).toBe(3);

    const messages = decode('two-messages-split.astm');
    expect(messages).toHaveLength(2);
    const [qc, patient] = messages;
    expect(qc!.errors).toEqual([]);
    expect(types(qc!)).toBe('HPOMRRL');
    expect(qc!.header).toMatchObject({ processingId: 'Q', timestamp: '2025-03-03T08:00:00' });
    expect(qc!.records[3]!.component(6, 2)).toHaveLength(700);
    expect(qc!.results.map(row)).toEqual([
      ['QC-LOT-7', null, 'WBC', '3.10', '10E3/uL', 'N', 'F', null],
      ['QC-LOT-7', null, 'HGB', '8.1', 'g/dL', 'N', 'F', null],
    ]);
    expect(qc!.termination).toBe('N');
    expect(patient!.errors).toEqual([]);
    expect(patient!.results.map(row)).toEqual([
      ['S-100', 'MRN-5', 'WBC', '7.25', '10E3/uL', 'N', 'F', '2025-03-03T08:04:00'],
    ]);
  });

  it('host-query: the instrument asks, the host has nothing', () => {
    const [query, answer, ...rest] = decode('host-query.astm');
    expect(rest).toEqual([]);
    expect(query!.errors).toEqual([]);
    expect(query!.results).toEqual([]);
    expect(query!.queries).toEqual([
      {
        record: 1,
        sequence: '1',
        all: false,
        patientId: null,
        specimenIds: ['SID-2001', 'SID-2002'],
        startingRange: [
          ['', 'SID-2001'],
          ['', 'SID-2002'],
        ],
        endingRange: [],
        allTests: false,
        tests: ['GLU', 'NA'],
        beginAt: null,
        endAt: null,
        status: 'O',
      },
    ]);
    expect(answer!.errors).toEqual([]);
    expect(types(answer!)).toBe('HL');
    expect(answer!.termination).toBe('I');
  });

  it('printer-report: a fixed-width report in STX…ETX is not ASTM, and says so', () => {
    const [m, ...rest] = decode('printer-report.txt');
    expect(rest).toEqual([]);
    expect(m!.records).toEqual([]);
    expect(m!.results).toEqual([]);
    expect(m!.errors).toHaveLength(1);
    expect(m!.errors[0]!.code).toBe('ASTM_NOT_ASTM');
    expect(m!.errors[0]!.message).toContain('1 STX-framed block that is not an E1381 frame');
    expect(m!.errors[0]!.message).toContain('"25/03/01 09:12 ID# 00A17QX [Serum] GLU 5.6 mmol/L');
    expect(m!.text).toBe(
      '25/03/01 09:12 ID# 00A17QX   [Serum]     GLU       5.6  mmol/L  CRE        81  umol/L',
    );
  });

  it('bare-records: records without framing, CR LF endings, the second message cut short', () => {
    const messages = decode('bare-records.txt');
    expect(messages).toHaveLength(2);
    expect(messages[0]!.errors).toEqual([]);
    expect(messages[0]!.results.map(row)).toEqual([
      ['B-SPEC', 'B-PAT', 'K', '4.1', 'mmol/L', 'N', 'F', '2025-07-07T07:00:00'],
    ]);
    expect(messages[1]!.errors.map((e) => e.code)).toEqual(['ASTM_NO_TERMINATOR']);
    expect(messages[1]!.results.map(row)).toEqual([
      ['B-SPEC-2', 'B-PAT-2', 'NA', '141', 'mmol/L', 'N', 'F', '2025-07-07T07:07:00'],
    ]);
  });
});
