import { describe, expect, it } from 'vitest';
import { readOrderMessage } from '../../src-main/orders/hl7-orders';
import { parseHl7 } from '../../src-main/protocols/hl7/message';

const instruments = new Set(['chem1']);
const read = (...segments: string[]) =>
  readOrderMessage(parseHl7(segments.join('\r')), instruments, 'lis');

const MSH = (type: string, receiver = 'LAB') =>
  `MSH|^~\\&|LIS|HOSP|${receiver}|LAB|20261126100000||${type}|CTRL1|P|2.5.1`;
const PID = 'PID|1||PID001^^^HOSP||DOE^JOHN';

describe('reading order messages', () => {
  it('reads an ORM^O01: one order per sample, several OBRs make several tests', () => {
    const reading = read(
      MSH('ORM^O01', 'chem1'),
      PID,
      'ORC|NW|P1|F1',
      'OBR|1|P1|SID001|GLUC^Glucose^L|S',
      'ORC|NW|P2|F1',
      'OBR|2|P2|SID001|CREAT^Creatinine^L',
    );
    expect(reading).toEqual({
      ok: true,
      changes: [
        {
          action: 'new',
          sampleId: 'SID001',
          patientId: 'PID001',
          patientName: 'DOE JOHN',
          tests: ['GLUC', 'CREAT'],
          priority: 'S',
          instrumentId: 'chem1',
          source: 'lis',
        },
      ],
    });
  });

  it('takes the sample from SPM-2 in an OML^O33, and any instrument when MSH-5 names none', () => {
    const reading = read(MSH('OML^O33'), PID, 'SPM|1|SID9', 'ORC|NW', 'OBR|1|||NA');
    expect(reading.ok && reading.changes[0]).toMatchObject({
      sampleId: 'SID9',
      tests: ['NA'],
      instrumentId: null,
    });
  });

  it('reads an SPM after its OBR in an OML^O21, and falls back to ORC-3 then OBR-2', () => {
    const o21 = read(MSH('OML^O21'), PID, 'ORC|NW', 'OBR|1|||K', 'SPM|1|SPM7');
    expect(o21.ok && o21.changes[0]!.sampleId).toBe('SPM7');
    const orc = read(MSH('ORM^O01'), PID, 'ORC|NW||ORC3', 'OBR|1|||K');
    expect(orc.ok && orc.changes[0]!.sampleId).toBe('ORC3');
    const placer = read(MSH('ORM^O01'), PID, 'ORC|NW', 'OBR|1|PLACER2||K');
    expect(placer.ok && placer.changes[0]!.sampleId).toBe('PLACER2');
  });

  it('reads cancel (CA) and change (XO)', () => {
    const cancel = read(MSH('ORM^O01'), PID, 'ORC|CA', 'OBR|1||SID1|GLUC');
    expect(cancel.ok && cancel.changes[0]).toMatchObject({ action: 'cancel', tests: ['GLUC'] });
    const change = read(MSH('ORM^O01'), PID, 'ORC|XO', 'OBR|1||SID1|NA');
    expect(change.ok && change.changes[0]).toMatchObject({ action: 'change', tests: ['NA'] });
  });

  it('answers what it cannot read with the reason, the place and AE or AR', () => {
    const noObr = read(MSH('ORM^O01'), PID, 'ORC|NW');
    expect(noObr).toMatchObject({ ok: false, problem: { kind: 'error', reason: 'ORDER_NO_OBR' } });
    const noSample = read(MSH('ORM^O01'), PID, 'ORC|NW', 'OBR|1|||GLUC');
    expect(noSample).toMatchObject({
      ok: false,
      problem: { kind: 'error', reason: 'ORDER_NO_SAMPLE', location: { segment: 'OBR', field: 3 } },
    });
    const noTest = read(MSH('ORM^O01'), PID, 'ORC|NW', 'OBR|1||SID1');
    expect(noTest).toMatchObject({
      ok: false,
      problem: { reason: 'ORDER_NO_TEST', text: 'OBR 1 for sample SID1 has no test code (OBR-4)' },
    });
    const notAnOrder = read(MSH('ORU^R01'), PID, 'OBR|1||SID1|GLUC');
    expect(notAnOrder).toMatchObject({
      ok: false,
      problem: { kind: 'rejected', reason: 'ORDER_UNSUPPORTED_TYPE' },
    });
    const badControl = read(MSH('ORM^O01'), PID, 'ORC|ZZ', 'OBR|1||SID1|GLUC');
    expect(badControl).toMatchObject({ ok: false, problem: { reason: 'ORDER_BAD_CONTROL' } });
  });
});
