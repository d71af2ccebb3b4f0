/**
 * The order messages sent to HL7 analyzers read back as the orders they carry, by the same reader
 * the order sources use: sample, patient, tests, priority and order control survive the trip.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeHl7OrderMessage,
  type Hl7SampleOrder,
} from '../../src-main/orders/hl7-order-message';
import { readOrderMessage } from '../../src-main/orders/hl7-orders';
import { parseHl7 } from '../../src-main/protocols/hl7/message';

const order: Hl7SampleOrder = {
  sampleId: 'S|1^X',
  patientId: 'P-7',
  patientName: 'DOE JANE ANN',
  tests: ['TSH3', 'FT4'],
  priority: 'S',
  control: 'NW',
  placer: '42',
};

function roundTrip(type: 'OML^O33' | 'ORM^O01', sample: Hl7SampleOrder) {
  const text = encodeHl7OrderMessage(
    {
      type,
      receiver: 'immuno1',
      controlId: 'LG1',
      now: Date.UTC(2026, 10, 26),
      utcOffsetMinutes: 0,
    },
    sample,
  );
  const message = parseHl7(text);
  return { text, message, read: readOrderMessage(message, new Set(['immuno1']), 'test') };
}

describe('order messages to HL7 analyzers', () => {
  it.each(['OML^O33', 'ORM^O01'] as const)('%s reads back as the order it carries', (type) => {
    const { message, read } = roundTrip(type, order);
    expect(message.msh.messageType).toMatchObject({
      code: type.slice(0, 3),
      trigger: type.slice(4),
    });
    expect(message.msh.controlId).toBe('LG1');
    expect(message.msh.receivingApplication).toBe('immuno1');
    expect(read).toEqual({
      ok: true,
      changes: [
        {
          action: 'new',
          sampleId: 'S|1^X',
          patientId: 'P-7',
          patientName: 'DOE JANE ANN',
          tests: ['TSH3', 'FT4'],
          priority: 'S',
          instrumentId: 'immuno1',
          source: 'test',
        },
      ],
    });
    expect(message.segmentsNamed('SPM')).toHaveLength(type === 'OML^O33' ? 1 : 0);
  });

  it('a cancellation is ORC-1 CA for each test', () => {
    const { message, read } = roundTrip('OML^O33', { ...order, control: 'CA' });
    expect(message.segmentsNamed('ORC').map((s) => s.value(1))).toEqual(['CA', 'CA']);
    expect(read.ok && read.changes[0]!.action).toBe('cancel');
  });
});
