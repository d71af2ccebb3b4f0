import { describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import type { StoredResult } from '../../src-shared/results';
import { planForwarding } from '../../src-main/profiles/forwarding';
import { instrumentTestCodes, mapResults } from '../../src-main/profiles/mapping';
import { samplePatternToRegExp } from '../../src-main/profiles/qc';

const instrument = instrumentConfigSchema.parse({
  id: 'chem1',
  protocol: 'astm',
  mode: 'server',
  port: 15001,
  testCodes: {
    GLU: 'GLUC',
    CREA: { code: 'CREAT', name: 'Creatinine', units: 'µmol/L' },
    CHK: { exclude: true },
    NA: { name: 'Sodium' },
  },
  qc: { forwardTo: ['qc-lis'] },
});

function result(testCode: string | null, change: Partial<StoredResult> = {}): StoredResult {
  return {
    sampleId: 'S1',
    patientId: 'P1',
    testCode,
    value: '1',
    units: 'umol/l',
    flags: null,
    status: 'F',
    observedAt: null,
    qc: false,
    ...change,
  };
}

describe('test-code mapping', () => {
  it('gives the LIS code, name and units, and keeps what the analyzer sent beside them', () => {
    const mapped = mapResults(
      [result('GLU'), result('CREA'), result('K'), result('CHK'), result('NA'), result(null)],
      instrument,
    );
    expect(
      mapped.map((m) => [
        m.instrumentTestCode,
        m.testCode,
        m.testName,
        m.units,
        m.mapped,
        m.excluded,
      ]),
    ).toEqual([
      ['GLU', 'GLUC', null, 'umol/l', true, false],
      ['CREA', 'CREAT', 'Creatinine', 'µmol/L', true, false],
      ['K', 'K', null, 'umol/l', false, false],
      ['CHK', 'CHK', null, 'umol/l', true, true],
      ['NA', 'NA', 'Sodium', 'umol/l', true, false],
      [null, null, null, 'umol/l', false, false],
    ]);
    expect(mapped[1]!.instrumentUnits).toBe('umol/l');
  });

  it('reads the table backwards for orders: LIS codes to the instrument’s', () => {
    expect(instrumentTestCodes(['GLUC', 'CREAT', 'K', 'CHK', 'NA'], instrument)).toEqual([
      'GLU',
      'CREA',
      'K',
      'CHK',
      'NA',
    ]);
    expect(instrumentTestCodes(['GLU'], instrument)).toEqual(['GLU']);
  });
});

describe('forwarding plan', () => {
  it('sends patient results mapped, QC results only to QC destinations, excluded codes nowhere', () => {
    const plan = planForwarding(
      [
        result('GLU'),
        result('CHK'),
        result('GLU', { sampleId: 'QC1', qc: true }),
        result('CHK', { qc: true }),
      ],
      instrument,
    );
    expect(plan.patient.map((r) => [r.sampleId, r.testCode])).toEqual([['S1', 'GLUC']]);
    expect(plan.qc.map((r) => [r.sampleId, r.testCode])).toEqual([['QC1', 'GLUC']]);
    expect(plan.qcDestinations).toEqual(['qc-lis']);
  });

  it('keeps QC results in the gateway when no QC destination is set', () => {
    const plain = instrumentConfigSchema.parse({ ...instrument, qc: {} });
    expect(planForwarding([result('GLU', { qc: true })], plain)).toMatchObject({
      patient: [],
      qcDestinations: [],
    });
  });
});

describe('QC sample ID patterns', () => {
  it('take * and ? as wildcards, everything else literally, ignoring case', () => {
    const match = (pattern: string, id: string) => samplePatternToRegExp(pattern).test(id);
    expect(match('QC*', 'qc-low')).toBe(true);
    expect(match('QC*', 'AQC')).toBe(false);
    expect(match('CAL-??', 'CAL-01')).toBe(true);
    expect(match('CAL-??', 'CAL-1')).toBe(false);
    expect(match('C.1', 'CX1')).toBe(false);
    expect(match('(QC)+', '(qc)+')).toBe(true);
  });
});
