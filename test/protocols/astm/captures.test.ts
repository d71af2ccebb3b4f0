import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../../src-shared/results';
import { decodeAstm, type DecodedAstmMessage } from '../../../src-main/protocols/astm/decode';

// Real analyzer recordings live beside the repository (shared/captures), as they do in CI.
const CAPTURES = new URL('../../../../shared/captures/', import.meta.url);

function capture(name: string): Buffer {
  return readFileSync(new URL(name, CAPTURES));
}

function only(name: string): DecodedAstmMessage {
  const { messages } = decodeAstm(capture(name));
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

function result(
  sampleId: string | null,
  patientId: string | null,
  testCode: string | null,
  value: string | null,
  units: string | null,
  flags: string | null,
  status: string | null,
  observedAt: string | null,
): Result {
  return { sampleId, patientId, testCode, value, units, flags, status, observedAt };
}

function types(message: DecodedAstmMessage): string {
  return message.records.map((r) => r.type).join('');
}

describe('real analyzer captures', () => {
  it('Abbott Afinion 2: whole message in one frame ending C1 C2 CR without LF', () => {
    const m = only('abbott_afinion2.txt');
    expect(m.errors).toEqual([]);
    expect(types(m)).toBe('HPORL');
    expect(m.header).toMatchObject({
      sender: 'Afinion 2 Analyzer',
      senderParts: ['Afinion 2 Analyzer', '', 'AF20052397'],
      processingId: 'P',
      version: '1',
      timestamp: '2024-12-06T14:12:35',
    });
    expect(m.results).toEqual([
      result('5', '3643', 'HbA1c', '5.9', '%', null, 'F', '2024-12-06T14:06:15'),
    ]);
    expect(m.termination).toBe('N');
  });

  it('cobas c111: every record ends with ETB, only L with ETX, frames end C1 C2 LF, M record', () => {
    const m = only('cobas_c111.txt');
    expect(m.errors).toEqual([]);
    expect(types(m)).toBe('HPORCML');
    expect(m.header).toMatchObject({ sender: 'SENAITE', receiver: 'host', version: '1' });
    expect(m.results).toEqual([
      result('T20 10134GA D28', null, '413', '40.13', 'g/L', 'N', 'F', '2023-08-03T13:17:00'),
    ]);
    // The M record keeps its repeats; C attaches to the R before it.
    const manufacturer = m.records[5]!;
    expect(manufacturer.type).toBe('M');
    expect(manufacturer.field(3)).toEqual(['RR', 'BM', 'c111', '1']);
    expect((manufacturer.field(5) as string[][]).map((rep) => rep[0])).toEqual(
      '-21 -21 1 1 1 -1 -33 -37 -38 -38 -42 -42 -42 -41 -42 -43 140 141'.split(' '),
    );
    expect(m.comments).toEqual([
      { record: 4, attachedTo: 3, source: 'I', parts: [], text: '', kind: 'I' },
    ]);
    expect(m.resultSources).toEqual([{ record: 3, patient: 1, order: 2, comments: [4] }]);
  });

  it('cobas c311: packed frame, ^^^685/ test IDs, padded specimen ID components', () => {
    const m = only('cobas_c311.txt');
    expect(m.errors).toEqual([]);
    expect(m.records).toHaveLength(18);
    expect(m.results).toHaveLength(7);
    expect(m.results[0]).toEqual(result('11625', null, '685/', '22.4', 'U/l', 'A', 'F', null));
    expect(m.results[2]).toEqual(result('11625', null, '712/', '4.1', 'umol/l', 'L', 'F', null));
    expect(m.results[6]).toEqual(result('11625', null, '690/', '34', 'umol/l', 'A', 'F', null));
    expect(m.results.map((r) => r.testCode)).toEqual([
      '685/',
      '687/',
      '712/',
      '158/',
      '735/',
      '717/',
      '690/',
    ]);
    // O-5 repeats with the repeat delimiter `\`.
    expect(m.records[2]!.repeats(5)).toHaveLength(7);
    expect(m.records[2]!.components(3)).toEqual([
      '11625',
      'CL-PL-24-0370         ',
      '1',
      '',
      '004',
    ]);
    expect(m.comments.map((c) => [c.attachedTo, c.text])).toEqual([
      [3, '43'],
      [5, '0'],
      [7, '0'],
      [9, '0'],
      [11, '0'],
      [13, '0'],
      [15, '43'],
    ]);
    expect(m.header).toMatchObject({ sender: 'c311', receiver: 'host', timestamp: null });
  });

  it('DCA Vantage: packed frame, comments after results, O-4 specimen ID', () => {
    const m = only('dca_vantage.txt');
    expect(m.errors).toEqual([]);
    expect(m.results).toHaveLength(3);
    expect(m.results[0]).toEqual(result('660', 'BU24R554', 'Alb', '63.7', 'mg/L', null, 'F', null));
    expect(m.results[2]).toEqual(
      result('660', 'BU24R554', 'Ratio', '27.6', 'mg/g', null, 'F', null),
    );
    expect(m.comments.map((c) => [c.attachedTo, c.parts])).toEqual([
      [3, ['1.000', '0.0 mg/L']],
      [5, ['1.000', '0.0 mg/dL']],
    ]);
  });

  it('GeneXpert: delimiters H|@^\\ (repeat @, escape \\), long multi-part test IDs', () => {
    const m = only('genexpert.txt');
    expect(m.errors).toEqual([]);
    expect(m.header?.delimiters).toEqual({ field: '|', repeat: '@', component: '^', escape: '\\' });
    expect(m.header).toMatchObject({
      messageControlId: 'URM-8lT4abZA-06',
      sender: '.806149 Happy Hospital',
      senderParts: ['.806149 Happy Hospital', 'GeneXpert', '4.8'],
      receiver: 'HNH-SENAITE',
      processingId: 'P',
      version: '1394-97',
      timestamp: '2025-05-16T12:55:15',
    });
    expect(m.results).toHaveLength(84);
    expect(m.results[0]).toEqual(
      result('PR25A137', null, 'Xpert', 'NOT DETECTED', null, null, 'F', '2025-05-14T13:21:03'),
    );
    expect(m.results[2]).toEqual(result('PR25A137', null, 'Xpert', '^0.0', null, null, null, null));
    expect(m.results[83]).toEqual(result('PR25A137', null, 'RIF', '^3.0', null, null, null, null));
    // `\` is the escape here, not a repeat: the test ID keeps its components.
    expect(m.records[3]!.components(3)).toEqual([
      '',
      'MTB-RIF',
      '',
      'Xpert',
      'Xpert MTB-RIF Ultra',
      '4',
      'MTB',
      '',
    ]);
    expect(m.comments).toHaveLength(3);
    expect(m.comments[0]).toMatchObject({
      attachedTo: 3,
      parts: ['Notes', '', 'Id# 118176 Sardani P Lantion CDU/Dr. A Marcil cp'],
    });
  });

  it('mini VIDAS: not ASTM, a clear coded error and the text, no throw', () => {
    const m = only('mini_vidas.txt');
    expect(m.records).toEqual([]);
    expect(m.results).toEqual([]);
    expect(m.errors).toHaveLength(1);
    expect(m.errors[0]!.code).toBe('ASTM_NOT_ASTM');
    expect(m.errors[0]!.message).toContain('not ASTM');
    expect(m.errors[0]!.message).toContain('mtrsl|pi|pn|si|ciZ1G021SCR');
    expect(m.text).toBe(
      'mtrsl|pi|pn|si|ciZ1G021SCR|rtHBCT|rnAnti-HBc Total II|tt18:35|td10/25/24|qlPositif|qn0.05|b0',
    );
  });

  it('Pentra XLR: one record per frame, frame numbers wrap 7 → 0, LF-only endings', () => {
    const m = only('pentra_xlr.txt');
    expect(m.errors).toEqual([]);
    expect(m.records).toHaveLength(28);
    expect(m.results).toHaveLength(21);
    expect(m.results[0]).toEqual(
      result('S1234', null, 'WBC', '8.5', '1', null, 'W', '2022-07-27T12:15:50'),
    );
    expect(m.results[9]).toEqual(
      result('S1234', null, 'BAS#', '-----', '1', 'HH', 'X', '2022-07-27T12:15:50'),
    );
    expect(m.results[20]).toEqual(
      result('S1234', null, 'RDWSD', '43', '1', null, 'F', '2022-07-27T12:15:50'),
    );
    expect(m.comments.map((c) => [c.attachedTo, c.text])).toEqual([
      [3, 'Alarm_WBC LMNE- BASO+ LL NL LN NO SL1'],
      [3, 'LARGE IMMATURE CELL NRBCs'],
      [23, 'PLATELET AGGREGATS'],
    ]);
    expect(m.resultSources[0]!.comments).toEqual([4, 5]);
  });

  it('SpotChem EL: a fixed-width report in STX…ETX is not ASTM; nothing thrown, text kept', () => {
    const m = only('spotchem_el.txt');
    expect(m.records).toEqual([]);
    expect(m.errors.map((e) => e.code)).toEqual(['ASTM_NOT_ASTM']);
    expect(m.errors[0]!.message).toContain('24/10/29 13:08 ID# 1DC042FP');
    expect(m.errors[0]!.message).toContain('not an E1381 frame');
    expect(m.text).toContain('Na       131  mmol/L');
    expect(m.text.startsWith('24/10/29 13:08')).toBe(true);
  });

  it('Sysmex XN-550: ^^^^WBC^1 test IDs, padded O-4, long O record with repeats', () => {
    const m = only('sysmex_xn550.txt');
    expect(m.errors).toEqual([]);
    expect(m.header).toMatchObject({ sender: 'XN-550', version: 'E1394-97', processingId: null });
    expect(m.results).toHaveLength(41);
    expect(m.results[0]).toEqual(
      result('27', '37182', 'WBC', '8.13', '10*3/uL', 'N', 'F', '2024-06-27T13:54:07'),
    );
    expect(m.results[40]).toEqual(
      result(
        '27',
        '37182',
        'DIST_PLT',
        'PNG\\20240628\\2024_06_27_13_54_27_PLT.PNG',
        null,
        'N',
        'F',
        '2024-06-27T13:54:07',
      ),
    );
    expect(m.records[3]!.repeats(5)).toHaveLength(23);
  });

  it('Sysmex XP-100: padded values, no status', () => {
    const m = only('sysmex_xp100.txt');
    expect(m.errors).toEqual([]);
    expect(m.results).toHaveLength(20);
    expect(m.results[0]).toEqual(
      result('113', null, 'WBC', '5.5', '10*3/uL', 'N', null, '2024-07-23T17:24:52'),
    );
    expect(m.results[19]).toEqual(
      result('113', null, 'PCT', '0.17', '%', 'N', null, '2024-07-23T17:24:52'),
    );
  });

  it('Yumizen H500: 32 KB session with large M records; frame numbers out of sequence', () => {
    const m = only('yumizen_h500.txt');
    expect(types(m)).toBe(`HPOCCMMMM${'R'.repeat(21)}L`);
    expect(m.results).toHaveLength(21);
    expect(m.results[0]).toEqual(result('PX440N', null, 'MCV', '90.6', 'um3', 'N', 'F', null));
    expect(m.results[20]).toEqual(result('PX440N', null, 'EOS%', '5.0', '%', 'N', 'F', null));
    expect(m.records[7]!.text).toHaveLength(26_644);
    expect(m.records[7]!.text.endsWith('n2mDrf75ttOr/Xe27/z9b6//R/gc=')).toBe(true);
    expect(m.comments.map((c) => c.attachedTo)).toEqual([2, 2]);
    expect(m.header).toMatchObject({ sender: 'H500', processingId: 'Q', version: 'LIS2-A2' });
    // The M records travel in frames numbered 1, 1, 1 after frame 5, then 4: not E1381's
    // sequence. Every text is kept and each departure is reported.
    expect(m.errors.map((e) => e.code)).toEqual([
      'ASTM_BAD_FRAME_NUMBER',
      'ASTM_BAD_FRAME_NUMBER',
      'ASTM_BAD_FRAME_NUMBER',
      'ASTM_BAD_FRAME_NUMBER',
    ]);
    expect(m.errors[0]!.message).toBe(
      'frame 1 (byte 279): expected frame number 6; the text was kept',
    );
  });

  it('decodes every capture in the folder without throwing', () => {
    const names = [
      'abbott_afinion2.txt',
      'cobas_c111.txt',
      'cobas_c311.txt',
      'dca_vantage.txt',
      'genexpert.txt',
      'mini_vidas.txt',
      'pentra_xlr.txt',
      'spotchem_el.txt',
      'sysmex_xn550.txt',
      'sysmex_xp100.txt',
      'yumizen_h500.txt',
    ];
    const counts = names.map((name) =>
      decodeAstm(capture(name)).messages.reduce((n, m) => n + m.results.length, 0),
    );
    expect(counts).toEqual([1, 1, 7, 3, 84, 0, 21, 0, 41, 20, 21]);
  });
});
