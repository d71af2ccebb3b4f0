import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../../src-shared/results';
import { decodeAstm, type DecodedAstmMessage } from '../../../src-main/protocols/astm/decode';

// Transmissions laid out the way real analyzers send them (test/fixtures/astm/README.md), all
// sender-side recordings without ENQ and EOT. The same files go through the live host session
// in analyzer-fixtures-session.test.ts.
const FIXTURES = new URL('../../fixtures/astm/', import.meta.url);

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

function only(name: string): DecodedAstmMessage {
  const { messages } = decodeAstm(fixture(name));
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

/** The byte after each STX: the frame numbers as sent. */
function frameNumbers(raw: Buffer): string {
  return raw
    .toString('latin1')
    .split('\x02')
    .slice(1)
    .map((f) => f[0])
    .join('');
}

/** What follows each frame's ETX or ETB and two checksum characters, up to the next STX. */
function endings(raw: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < raw.length; at++) {
    if (raw[at] !== 0x03 && raw[at] !== 0x17) continue;
    const next = raw.indexOf(0x02, at);
    out.push(raw.toString('latin1', at + 3, next < 0 ? raw.length : next));
  }
  return out;
}

describe('analyzer layouts', () => {
  it('one-frame-cr: whole message in one frame ending C1 C2 CR without LF', () => {
    const raw = fixture('one-frame-cr.astm');
    expect(frameNumbers(raw)).toBe('1');
    expect(endings(raw)).toEqual(['\r']);

    const m = only('one-frame-cr.astm');
    expect(m.errors).toEqual([]);
    expect(types(m)).toBe('HPORL');
    expect(m.header).toMatchObject({
      sender: 'Glyco 4 Analyzer',
      senderParts: ['Glyco 4 Analyzer', '', 'GA40031562'],
      processingId: 'P',
      version: '1',
      timestamp: '2025-09-04T10:15:00',
    });
    expect(m.results).toEqual([
      result('12', '7719', 'HbA1c', '6.3', '%', null, 'F', '2025-09-04T10:08:44'),
    ]);
    expect(m.termination).toBe('N');
  });

  it('etb-each-record: every record ends with ETB, only L with ETX, C1 C2 LF, M record', () => {
    const raw = fixture('etb-each-record.astm');
    expect(frameNumbers(raw)).toBe('1234567');
    expect(raw.toString('latin1').split('\x17')).toHaveLength(7);
    expect(raw.toString('latin1').split('\x03')).toHaveLength(2);
    expect(endings(raw)).toEqual(Array<string>(7).fill('\n'));

    const m = only('etb-each-record.astm');
    expect(m.errors).toEqual([]);
    expect(types(m)).toBe('HPORCML');
    expect(m.header).toMatchObject({ sender: 'LABHOST', receiver: 'host', version: '1' });
    expect(m.results).toEqual([
      result('Q25 40771BX A07', null, '528', '27.64', 'mmol/L', 'H', 'F', '2025-08-12T09:45:00'),
    ]);
    // The M record keeps its repeats; C attaches to the R before it.
    const manufacturer = m.records[5]!;
    expect(manufacturer.type).toBe('M');
    expect(manufacturer.field(3)).toEqual(['RR', 'BM', 'q200', '1']);
    expect((manufacturer.field(5) as string[][]).map((rep) => rep[0])).toEqual(
      '-18 -17 2 2 1 0 -29 -31 -35 -36 -40 -40 -41 -39 -40 -41 152 153'.split(' '),
    );
    expect(m.comments).toEqual([
      { record: 4, attachedTo: 3, source: 'I', parts: [], text: '', kind: 'I' },
    ]);
    expect(m.resultSources).toEqual([{ record: 3, patient: 1, order: 2, comments: [4] }]);
    expect(m.termination).toBe('N');
  });

  it('packed-padded-ids: many records in one frame, ^^^611/ test IDs, padded components', () => {
    const raw = fixture('packed-padded-ids.astm');
    expect(frameNumbers(raw)).toBe('1');
    expect(endings(raw)).toEqual(['\r\n']);

    const m = only('packed-padded-ids.astm');
    expect(m.errors).toEqual([]);
    expect(m.records).toHaveLength(18);
    expect(types(m)).toBe(`HPO${'RC'.repeat(7)}L`);
    expect(m.results).toEqual([
      result('30418', null, '611/', '31.2', 'U/l', 'A', 'F', null),
      result('30418', null, '614/', '18.0', 'U/l', 'N', 'F', null),
      result('30418', null, '702/', '3.6', 'umol/l', 'L', 'F', null),
      result('30418', null, '433/', '264', 'U/l', 'N', 'F', null),
      result('30418', null, '719/', '1.9', 'umol/l', 'N', 'F', null),
      result('30418', null, '718/', '4.72', 'mmol/l', 'N', 'F', null),
      result('30418', null, '651/', '58', 'umol/l', 'A', 'F', null),
    ]);
    // O-5 repeats with the repeat delimiter `\`.
    expect(m.records[2]!.repeats(5)).toHaveLength(7);
    expect(m.records[2]!.components(3)).toEqual([
      '30418',
      'QC-SE-25-1187         ',
      '2',
      '',
      '007',
    ]);
    expect(m.comments.map((c) => [c.attachedTo, c.text])).toEqual([
      [3, '41'],
      [5, '0'],
      [7, '0'],
      [9, '0'],
      [11, '0'],
      [13, '0'],
      [15, '41'],
    ]);
    expect(m.header).toMatchObject({ sender: 'q511', receiver: 'host', timestamp: null });
    expect(m.termination).toBe('N');
  });

  it('packed-comments-after: packed frame, comments after results, O-4 specimen ID', () => {
    const raw = fixture('packed-comments-after.astm');
    expect(frameNumbers(raw)).toBe('1');
    expect(endings(raw)).toEqual(['\r']);

    const m = only('packed-comments-after.astm');
    expect(m.errors).toEqual([]);
    expect(types(m)).toBe('HPORCRCRL');
    expect(m.results).toEqual([
      result('512', 'KT25M310', 'Alb', '48.2', 'mg/L', null, 'F', null),
      result('512', 'KT25M310', 'Crt', '187.5', 'mg/dL', null, 'F', null),
      result('512', 'KT25M310', 'Ratio', '25.7', 'mg/g', null, 'F', null),
    ]);
    expect(m.comments.map((c) => [c.attachedTo, c.parts])).toEqual([
      [3, ['1.000', '0.0 mg/L']],
      [5, ['1.000', '0.0 mg/dL']],
    ]);
    expect(m.resultSources.map((s) => s.comments)).toEqual([[4], [6], []]);
  });

  it('repeat-at-escape-backslash: delimiters H|@^\\ (repeat @, escape \\), long test IDs', () => {
    const m = only('repeat-at-escape-backslash.astm');
    expect(m.errors).toEqual([]);
    expect(m.header?.delimiters).toEqual({ field: '|', repeat: '@', component: '^', escape: '\\' });
    expect(m.header).toMatchObject({
      messageControlId: 'MSG-7Qk2Lw9x-11',
      sender: '.410233 Riverside Clinic',
      senderParts: ['.410233 Riverside Clinic', 'MolecuLab', '6.2'],
      receiver: 'LIS-EAST',
      processingId: 'P',
      version: '1394-97',
      timestamp: '2025-07-18T09:30:42',
    });
    expect(m.records[2]!.repeats(5)).toEqual([
      ['', '', '', 'RESP-4'],
      ['', '', '', 'RESP-CTRL'],
    ]);
    expect(m.results).toHaveLength(64);
    expect(m.results.slice(0, 4)).toEqual([
      result('RX25B212', null, 'FluA', 'NOT DETECTED', null, null, 'F', '2025-07-17T16:31:12'),
      result('RX25B212', null, 'FluA', 'NEG', null, null, null, null),
      result('RX25B212', null, 'FluA', '^0.0', null, null, null, null),
      result('RX25B212', null, 'FluA', '^-1.0', null, null, null, null),
    ]);
    expect(m.results[32]).toEqual(
      result('RX25B212', null, 'RSV', 'DETECTED', null, null, 'F', '2025-07-17T16:31:12'),
    );
    expect(m.results[34]).toEqual(result('RX25B212', null, 'RSV', '^24.3', null, null, null, null));
    expect(m.results[61]).toEqual(result('RX25B212', null, 'CoV2', 'FAIL', null, null, null, null));
    expect(m.results[63]).toEqual(result('RX25B212', null, 'CoV2', '^7.0', null, null, null, null));
    expect(m.results.map((r) => r.testCode)).toEqual(
      ['FluA', 'FluB', 'RSV', 'CoV2'].flatMap((code) => Array<string>(16).fill(code)),
    );
    // `\` is the escape here, not a repeat: the test ID keeps its components.
    expect(m.records[3]!.components(3)).toEqual([
      '',
      'RESP-4',
      '',
      'FluA',
      'MolecuLab Resp 4',
      '3',
      'Flu A',
      '',
    ]);
    expect(m.comments.map((c) => c.attachedTo)).toEqual([3, 20, 37, 54]);
    expect(m.comments[0]).toMatchObject({
      parts: ['Notes', '', 'Swab \\ ward 3; sent by Dr. K Osei'],
    });
    expect(m.termination).toBe('N');
  });

  it('keyed-line: a proprietary |-keyed line in STX…LF is not ASTM, coded, no throw', () => {
    const m = only('keyed-line.txt');
    expect(m.records).toEqual([]);
    expect(m.results).toEqual([]);
    expect(m.errors).toHaveLength(1);
    expect(m.errors[0]!.code).toBe('ASTM_NOT_ASTM');
    expect(m.errors[0]!.message).toContain('not ASTM');
    expect(m.errors[0]!.message).toContain('mtrsl|pi|pn|si|ciW3K118ARM');
    expect(m.text).toBe(
      'mtrsl|pi|pn|si|ciW3K118ARM|rtTXG|rnToxo IgG II|tt09:12|td07/14/25|qlNegatif|qn0.31|6e',
    );
  });

  it('one-record-per-frame-lf: frame numbers wrap 7 → 0, LF-only endings', () => {
    const raw = fixture('one-record-per-frame-lf.astm');
    expect(frameNumbers(raw)).toBe('12345670123456701234567');
    expect(endings(raw)).toEqual(Array<string>(23).fill('\n'));

    const m = only('one-record-per-frame-lf.astm');
    expect(m.errors).toEqual([]);
    expect(m.records).toHaveLength(23);
    expect(m.results).toHaveLength(16);
    expect(m.results[0]).toEqual(
      result('H25-0519', null, 'WBC', '6.9', '1', null, 'W', '2025-05-19T08:41:27'),
    );
    expect(m.results[6]).toEqual(
      result('H25-0519', null, 'EOS#', '-----', '1', 'HH', 'X', '2025-05-19T08:41:27'),
    );
    expect(m.results[11]).toEqual(
      result('H25-0519', null, 'PLT', '96', '1', 'L', 'F', '2025-05-19T08:41:27'),
    );
    expect(m.results[15]).toEqual(
      result('H25-0519', null, 'RDW', '12.8', '1', null, 'F', '2025-05-19T08:41:27'),
    );
    expect(m.comments.map((c) => [c.attachedTo, c.text])).toEqual([
      [3, 'Alarm_WBC LMNE+ NRBC+ LL'],
      [3, 'SMALL LYMPHOCYTES BLASTS?'],
      [16, 'PLATELET CLUMPS'],
    ]);
    expect(m.resultSources[0]!.comments).toEqual([4, 5]);
    expect(m.resultSources[11]!.comments).toEqual([17]);
    expect(m.termination).toBe('N');
  });

  it('fixed-width-report: a text report in STX…ETX is not ASTM; nothing thrown, text kept', () => {
    const m = only('fixed-width-report.txt');
    expect(m.records).toEqual([]);
    expect(m.errors.map((e) => e.code)).toEqual(['ASTM_NOT_ASTM']);
    expect(m.errors[0]!.message).toContain('25/08/30 15:42 ID# 2KQ07TX');
    expect(m.errors[0]!.message).toContain('not an E1381 frame');
    expect(m.text).toContain('Na       138  mmol/L');
    expect(m.text.startsWith('25/08/30 15:42')).toBe(true);
  });

  it('long-order-repeats: ^^^^WBC^1 test IDs, padded O-4, long O record with repeats', () => {
    const m = only('long-order-repeats.astm');
    expect(m.errors).toEqual([]);
    expect(types(m)).toBe(`HPCOC${'R'.repeat(32)}CL`);
    expect(m.header).toMatchObject({ sender: 'XN-7', version: 'E1394-97', processingId: null });
    expect(m.results).toHaveLength(32);
    expect(m.results[0]).toEqual(
      result('64', '52210', 'WBC', '7.42', '10*3/uL', 'N', 'F', '2025-08-08T09:22:15'),
    );
    expect(m.results[23]).toEqual(
      result('64', '52210', 'Anemia', null, null, 'A', 'F', '2025-08-08T09:22:15'),
    );
    expect(m.results[25]).toEqual(
      result('64', '52210', 'Blasts/Abn_Lympho?', '30', null, null, 'F', '2025-08-08T09:22:15'),
    );
    expect(m.results[31]).toEqual(
      result(
        '64',
        '52210',
        'DIST_PLT',
        'PNG\\20250808\\2025_08_08_09_22_31_DIST_PLT.PNG',
        null,
        'N',
        'F',
        '2025-08-08T09:22:15',
      ),
    );
    expect(m.records[3]!.repeats(5)).toHaveLength(23);
    expect(m.comments.map((c) => [c.attachedTo, c.text])).toEqual([
      [1, 'PRE OP'],
      [3, ''],
      [36, ''],
    ]);
    expect(m.termination).toBe('N');
  });

  it('padded-values-cut-short: padded values, no status, the next message cut short', () => {
    const { messages } = decodeAstm(fixture('padded-values-cut-short.astm'));
    expect(messages).toHaveLength(2);
    const [whole, cut] = messages;
    expect(whole!.errors).toEqual([]);
    expect(types(whole!)).toBe(`HPO${'R'.repeat(20)}L`);
    expect(whole!.header).toMatchObject({ sender: 'XQ-80', version: 'E1394-97' });
    expect(whole!.results).toHaveLength(20);
    expect(whole!.results[0]).toEqual(
      result('207', null, 'WBC', '7.2', '10*3/uL', 'N', null, '2025-08-21T10:17:33'),
    );
    expect(whole!.results[7]).toEqual(
      result('207', null, 'PLT', '458', '10*3/uL', 'H', null, '2025-08-21T10:17:33'),
    );
    expect(whole!.results[19]).toEqual(
      result('207', null, 'PCT', '0.43', '%', 'H', null, '2025-08-21T10:17:33'),
    );
    expect(whole!.termination).toBe('N');

    // The recording stops inside the next frame: what arrived is kept and the cut is reported.
    expect(types(cut!)).toBe('HPORR');
    expect(cut!.results).toEqual([
      result('208', null, 'WBC', '10.4', '10*3/uL', 'H', null, '2025-08-21T10:24:10'),
      result('208', null, 'RBC', '4.12', '10*6', null, null, null),
    ]);
    expect(cut!.errors.map((e) => e.code)).toEqual(['ASTM_BAD_FRAME', 'ASTM_NO_TERMINATOR']);
    expect(cut!.errors[0]!.message).toBe(
      'frame 1 (byte 1570): the input ends inside it after 373 text bytes; its text was kept',
    );
    expect(cut!.termination).toBeNull();
  });

  it('long-session-restarts: large M records split by ETB, frame numbers restarting at 1', () => {
    const raw = fixture('long-session-restarts.astm');
    expect(raw.length).toBeGreaterThan(20_000);
    expect(raw.toString('latin1').split('\x17').length - 1).toBe(93);
    // H P O C C as 1-5; the M records from 1 again each time; R and L carrying on from there.
    expect(frameNumbers(raw)).toBe(
      `12345` +
        `1234` +
        `123456701` +
        `${'12345670'.repeat(10)}123` +
        `1` +
        `${'23456701'.repeat(2)}234`,
    );

    const m = only('long-session-restarts.astm');
    expect(types(m)).toBe(`HPOCCMMMM${'R'.repeat(18)}L`);
    expect(m.header).toMatchObject({
      sender: 'HX-60',
      processingId: 'Q',
      version: 'LIS2-A2',
      timestamp: '2025-09-03T17:12:45',
    });
    expect(m.results).toHaveLength(18);
    expect(m.results[0]).toEqual(result('QX512K', null, 'WBC', '7.9', '10E3/uL', 'N', 'F', null));
    expect(m.results[4]).toEqual(result('QX512K', null, 'MCV', '87.7', 'um3', 'N', 'F', null));
    expect(m.results[17]).toEqual(result('QX512K', null, 'EOS%', '3.9', '%', 'N', 'F', null));
    // Every M record whole, however many frames it took.
    expect(m.records.slice(5, 9).map((r) => r.text.length)).toEqual([910, 2030, 19787, 50]);
    // Not a character lost or doubled where the frames join: the payload is whole base64.
    const matrix = m.records[7]!;
    expect(matrix.components(6)[0]).toBe('FLOAT32LE-stream/base64');
    const payload = matrix.component(6, 2);
    expect(Buffer.from(payload, 'base64').toString('base64')).toBe(payload);
    expect(Buffer.from(payload, 'base64')).toHaveLength(3700 * 4);
    expect(m.comments.map((c) => c.attachedTo)).toEqual([2, 2]);
    expect(m.termination).toBe('N');
    // Each restart departs from E1381's sequence: the text is kept and the departure reported.
    expect(m.errors).toEqual([
      {
        code: 'ASTM_BAD_FRAME_NUMBER',
        message: 'frame 1 (byte 223): expected frame number 6; the text was kept',
      },
      {
        code: 'ASTM_BAD_FRAME_NUMBER',
        message: 'frame 1 (byte 1158): expected frame number 5; the text was kept',
      },
      {
        code: 'ASTM_BAD_FRAME_NUMBER',
        message:
          'frame 1 (byte 3243): repeats the previous frame number with different text; both kept',
      },
      {
        code: 'ASTM_BAD_FRAME_NUMBER',
        message: 'frame 1 (byte 23529): expected frame number 4; the text was kept',
      },
    ]);
  });
});
