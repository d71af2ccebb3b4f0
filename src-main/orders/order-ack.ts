/**
 * The answer to a block that has no readable MSH: there is no control ID to acknowledge, so the
 * MSA-2 is empty, and the ERR says in plain words what was wrong. The LIS sees a rejection
 * instead of a silence that would stall it until its timeout.
 */
import { escapeHl7 } from '../protocols/hl7/escape';
import { DEFAULT_ENCODING } from '../protocols/hl7/encoding';
import { formatHl7DateTime } from '../protocols/hl7/time';

export function unreadableAck(
  reason: string,
  context: { now: number; utcOffsetMinutes: number; controlId: string; facility: string },
): string {
  const e = DEFAULT_ENCODING;
  const esc = (text: string) => escapeHl7(text, e);
  const time = formatHl7DateTime(context.now, context.utcOffsetMinutes);
  return [
    `MSH|^~\\&|LABGATEWAY|${esc(context.facility)}|||${time}||ACK|${esc(context.controlId)}|P|2.5.1`,
    'MSA|AR|',
    `ERR|||102^${esc(`the message could not be read: ${reason}`)}^HL70357|E`,
    '',
  ].join('\r');
}
