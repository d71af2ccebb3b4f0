/**
 * The profile fixtures (test/fixtures/profiles) and what each should read as: generically, and
 * with its built-in profile. Rows are the contract's fields in order: sample ID, patient ID, test
 * code, value, units, flags, status, result time.
 */
import { readFileSync } from 'node:fs';
import type { Result } from '../../src-shared/results';

export type Row = (string | null)[];

export function row(r: Result): Row {
  return [r.sampleId, r.patientId, r.testCode, r.value, r.units, r.flags, r.status, r.observedAt];
}

export const FIXTURE_DIR = new URL('../fixtures/profiles/', import.meta.url);

export function fixtureBytes(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURE_DIR));
}

export interface ProfileFixture {
  file: string;
  profile: string;
  generic: Row[];
  profiled: Row[];
  /** Sample IDs of the host queries, generically and with the profile. */
  queries?: { generic: string[]; profiled: string[] };
  /** Every result is QC by the marks the message carries. */
  qc?: boolean;
}

const GX = 'GX25B0042';
const GX_TIME = '2025-06-02T09:30:55';

export const PROFILE_FIXTURES: readonly ProfileFixture[] = [
  {
    file: 'genexpert.astm',
    profile: 'genexpert',
    generic: [
      [GX, null, 'Xpert', 'DETECTED LOW', null, null, 'F', GX_TIME],
      [GX, null, 'Xpert', 'POS', null, null, null, null],
      [GX, null, 'Xpert', '^21.3', null, null, null, null],
      [GX, null, 'Xpert', '^187.0', null, null, null, null],
      [GX, null, 'Xpert', 'PASS', null, null, null, null],
      [GX, null, 'Xpert', '^24.1', null, null, null, null],
      [GX, null, 'Xpert', '^162.0', null, null, null, null],
      [GX, null, 'RIF', 'NOT DETECTED', null, null, 'F', GX_TIME],
      [GX, null, 'RIF', '^22.8', null, null, null, null],
    ],
    profiled: [
      [GX, null, 'Xpert/MTB', 'DETECTED LOW', null, null, 'F', GX_TIME],
      [GX, null, 'Xpert/rpoB1', 'POS', null, null, null, null],
      [GX, null, 'Xpert/rpoB1/Ct', '21.3', null, null, null, null],
      [GX, null, 'Xpert/rpoB1/EndPt', '187.0', null, null, null, null],
      [GX, null, 'Xpert/SPC', 'PASS', null, null, null, null],
      [GX, null, 'Xpert/SPC/Ct', '24.1', null, null, null, null],
      [GX, null, 'Xpert/SPC/EndPt', '162.0', null, null, null, null],
      [GX, null, 'RIF/RIF Resistance', 'NOT DETECTED', null, null, 'F', GX_TIME],
      [GX, null, 'RIF/rpoB1/Ct', '22.8', null, null, null, null],
    ],
  },
  {
    file: 'hitachi-7600.astm',
    profile: 'hitachi-7600',
    generic: [
      ['0', null, '11/', '5.61', 'mmol/l', 'N', 'F', null],
      ['0', null, '12/', '102', 'umol/l', 'H', 'F', null],
    ],
    profiled: [
      ['1021', null, '11/', '5.61', 'mmol/l', 'N', 'F', '2025-06-04T09:38:12'],
      ['1021', null, '12/', '102', 'umol/l', 'H', 'F', '2025-06-04T09:38:12'],
    ],
  },
  {
    file: 'hitachi-7600-query.astm',
    profile: 'hitachi-7600',
    generic: [],
    profiled: [],
    queries: { generic: ['0'], profiled: ['1022'] },
  },
  {
    file: 'cobas-c311.astm',
    profile: 'cobas-c311',
    generic: [
      ['20871', null, '685/', '31.7', 'U/l', 'N', 'F', null],
      ['20871', null, '690/', '58', 'umol/l', 'N', 'F', null],
    ],
    profiled: [
      ['20871', null, '685/', '31.7', 'U/l', 'N', 'F', '2025-06-05T14:15:02'],
      ['20871', null, '690/', '58', 'umol/l', 'N', 'F', '2025-06-05T14:15:02'],
    ],
  },
  {
    file: 'dca-vantage.astm',
    profile: 'dca-vantage',
    generic: [
      ['712', 'PAT-4410', 'Alb', '18.2', 'mg/L', null, 'F', null],
      ['712', 'PAT-4410', 'Crt', '95.0', 'mg/dL', null, 'F', null],
      ['712', 'PAT-4410', 'Ratio', '19.2', 'mg/g', null, 'F', null],
    ],
    profiled: [
      ['712', 'PAT-4410', 'Alb', '18.2', 'mg/L', null, 'F', '2025-06-03T11:10:12'],
      ['712', 'PAT-4410', 'Crt', '95.0', 'mg/dL', null, 'F', '2025-06-03T11:10:12'],
      ['712', 'PAT-4410', 'Ratio', '19.2', 'mg/g', null, 'F', '2025-06-03T11:10:12'],
    ],
  },
  {
    file: 'yumizen-h500.astm',
    profile: 'yumizen-h500',
    generic: [
      ['CT2506A', null, 'WBC', '7.90', '10E3/uL', 'N', 'F', null],
      ['CT2506A', null, 'HGB', '13.1', 'g/dL', 'N', 'F', null],
      ['CT2506A', null, 'PLT', '297', '10E3/uL', 'H', 'F', null],
    ],
    profiled: [
      ['CT2506A', null, 'WBC', '7.90', '10E3/uL', 'N', 'F', '2025-06-06T07:29:40'],
      ['CT2506A', null, 'HGB', '13.1', 'g/dL', 'N', 'F', '2025-06-06T07:29:40'],
      ['CT2506A', null, 'PLT', '297', '10E3/uL', 'H', 'F', '2025-06-06T07:29:40'],
    ],
    qc: true,
  },
];
