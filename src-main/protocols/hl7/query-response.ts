/**
 * RSP^K11, the answer to a QBP^Q11 order query (IHE LAW LAB-27): MSA AA, QAK with the query tag
 * and `OK` (orders follow as OML^O33) or `NF` (nothing found), and the query's QPD echoed.
 */
import { escapeHl7 } from './escape';
import { encodingCharacters } from './encoding';
import type { Hl7Message } from './message';
import { formatHl7DateTime } from './time';

export interface QueryResponseContext {
  now: number;
  utcOffsetMinutes: number;
  controlId: string;
  application: string;
  facility: string;
}

export function buildQueryResponse(
  query: Hl7Message,
  status: 'OK' | 'NF',
  context: QueryResponseContext,
): string {
  const e = query.encoding;
  const f = e.field;
  const msh = query.segments[0]!;
  const esc = (text: string) => escapeHl7(text, e);
  const header = [
    `MSH${f}${encodingCharacters(e)}`,
    msh.raw(5) || esc(context.application),
    msh.raw(6) || esc(context.facility),
    msh.raw(3),
    msh.raw(4),
    esc(formatHl7DateTime(context.now, context.utcOffsetMinutes)),
    '',
    `RSP${e.component}K11${e.component}RSP_K11`,
    esc(context.controlId),
    msh.raw(11) || 'P',
    msh.raw(12) || '2.5.1',
  ].join(f);
  const qpd = query.segment('QPD');
  const segments = [
    header,
    ['MSA', 'AA', msh.raw(10)].join(f),
    ['QAK', qpd?.raw(2) ?? '', status, qpd?.raw(1) ?? ''].join(f),
  ];
  if (qpd) {
    const fields = ['QPD'];
    for (let i = 1; i <= qpd.fieldCount; i++) fields.push(qpd.raw(i));
    segments.push(fields.join(f));
  }
  return `${segments.join('\r')}\r`;
}
