/**
 * Orders for an HL7 analyzer: OML^O33 (IHE LAW LAB-28, specimen first) or ORM^O01, one message
 * per sample since each carries one patient. Pure: text in, text out.
 */
import { DEFAULT_ENCODING } from '../protocols/hl7/encoding';
import { escapeHl7 } from '../protocols/hl7/escape';
import { formatHl7DateTime } from '../protocols/hl7/time';

export type Hl7OrderMessageType = 'OML^O33' | 'ORM^O01';

export interface Hl7SampleOrder {
  sampleId: string;
  patientId: string | null;
  patientName: string | null;
  /** In the instrument's codes. */
  tests: readonly string[];
  /** S stat, A ASAP, R routine. */
  priority: string;
  /** ORC-1: NW new, CA cancel. */
  control: 'NW' | 'CA';
  /** ORC-2 / OBR-2: the gateway's order number. */
  placer: string;
}

export interface Hl7OrderHeader {
  type: Hl7OrderMessageType;
  /** MSH-5: the instrument's id. */
  receiver: string;
  controlId: string;
  now: number;
  utcOffsetMinutes: number;
}

export function encodeHl7OrderMessage(header: Hl7OrderHeader, order: Hl7SampleOrder): string {
  const e = DEFAULT_ENCODING;
  const esc = (text: string | null) => escapeHl7(text ?? '', e);
  const [code, trigger] = header.type.split('^') as [string, string];
  const structure = `${code}_${trigger}`;
  const time = formatHl7DateTime(header.now, header.utcOffsetMinutes);
  const segments = [
    `MSH|^~\\&|LABGATEWAY|LAB|${esc(header.receiver)}||${time}||${code}^${trigger}^${structure}|${esc(header.controlId)}|P|2.5.1`,
  ];
  const [family, ...given] = (order.patientName ?? '').split(' ');
  const name = order.patientName ? `${esc(family ?? '')}^${esc(given.join(' '))}` : '';
  segments.push(`PID|1||${esc(order.patientId)}||${name}`);
  const sample = esc(order.sampleId);
  if (header.type === 'OML^O33') segments.push(`SPM|1|${sample}`);
  order.tests.forEach((test, i) => {
    const placer = esc(`${order.placer}-${i + 1}`);
    const priority = esc(order.priority);
    segments.push(`ORC|${order.control}|${placer}|${sample}||||^^^^^${priority}`);
    const obr: string[] = ['OBR', String(i + 1), placer, sample, esc(test)];
    obr[27] = `^^^^^${priority}`;
    segments.push(Array.from(obr, (f) => f ?? '').join('|'));
  });
  return `${segments.join('\r')}\r`;
}
