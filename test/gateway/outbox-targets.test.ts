import { describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { withOutbox } from '../../src-main/gateway/gateway';
import { astmMessage } from '../store/fixtures';

const instrument = (extra: object) =>
  instrumentConfigSchema.parse({
    id: 'chem1',
    protocol: 'astm',
    mode: 'server',
    port: 15001,
    ...extra,
  });

describe('which destinations a stored message goes to', () => {
  it('patient results to forwardTo, QC results to qc.forwardTo only, excluded codes nowhere', () => {
    const config = instrument({
      forwardTo: ['lis', 'archive'],
      qc: { sampleIds: ['QC*'], forwardTo: ['qc-lis', 'archive'] },
      testCodes: { CHK: { exclude: true } },
    });
    const patient = astmMessage(1, { results: 2 });
    expect(withOutbox(patient, config).outbox).toEqual([
      { destinationId: 'lis', scope: 'patient' },
      { destinationId: 'archive', scope: 'patient' },
    ]);
    const qcOnly = {
      ...patient,
      results: patient.results.map((r) => ({ ...r, sampleId: 'QC1', qc: true })),
    };
    expect(withOutbox(qcOnly, config).outbox).toEqual([
      { destinationId: 'qc-lis', scope: 'qc' },
      { destinationId: 'archive', scope: 'qc' },
    ]);
    const mixed = { ...patient, results: [...patient.results, ...qcOnly.results] };
    expect(withOutbox(mixed, config).outbox).toEqual([
      { destinationId: 'lis', scope: 'patient' },
      { destinationId: 'archive', scope: 'all' },
      { destinationId: 'qc-lis', scope: 'qc' },
    ]);
    const excluded = {
      ...patient,
      results: patient.results.map((r) => ({ ...r, testCode: 'CHK' })),
    };
    expect(withOutbox(excluded, config).outbox).toBeUndefined();
  });

  it('nothing for an instrument without destinations, an incomplete message or one sent out', () => {
    const message = astmMessage(1);
    expect(withOutbox(message, instrument({})).outbox).toBeUndefined();
    const config = instrument({ forwardTo: ['lis'] });
    expect(withOutbox({ ...message, status: 'incomplete' }, config).outbox).toBeUndefined();
    expect(withOutbox({ ...message, direction: 'out' }, config).outbox).toBeUndefined();
    expect(withOutbox({ ...message, results: [] }, config).outbox).toBeUndefined();
  });
});
