/**
 * Acknowledgements for received messages: which ACKs HL7's acknowledgement rules call for, and
 * their text. The ACK speaks the sender's dialect: its MSH-1/2, its MSH-11/12, its character set.
 */
import { charsetFor, encodeHl7Text } from './charset';
import { encodingCharacters, type Hl7Encoding } from './encoding';
import { escapeHl7 } from './escape';
import type { Hl7Message } from './message';
import { formatHl7DateTime } from './time';

export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

/** Where an error is, for ERR-2 (v2.5+) or ERR-1 (earlier): `PID^1^3` is PID #1, field 3. */
export interface ErrorLocation {
  segment: string;
  /** Which occurrence of the segment (1-based). */
  sequence?: number;
  field?: number;
  component?: number;
}

/** HL7 table 0357 codes a receiver uses. */
export type Hl7ErrorCode =
  '100' | '101' | '102' | '103' | '200' | '201' | '202' | '203' | '204' | '205' | '206' | '207';

const TABLE_0357: Record<Hl7ErrorCode, string> = {
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

export type RejectReason =
  | 'storage'
  | 'unsupported'
  | 'unsupported-event'
  | 'unsupported-version'
  | 'unsupported-processing-id'
  | 'unsupported-charset'
  | 'busy'
  | 'other';

/** What the receiver made of a message. */
export type AckOutcome =
  | { kind: 'accepted' }
  /** The message itself is wrong (AE / CE). `text` is shown to the sender's operator. */
  | { kind: 'error'; text: string; code?: Hl7ErrorCode; location?: ErrorLocation }
  /** The receiver will not take it (AR / CR): unsupported, or it could not be stored. */
  | { kind: 'rejected'; reason: RejectReason; text?: string; location?: ErrorLocation };

export interface AckContext {
  /** MSH-7: an instant (epoch ms, written as `YYYYMMDDHHMMSS`) or a DTM written as given. */
  now: number | string;
  /** Offset of the site's wall clock from UTC, used to write `now` when it is a number. */
  utcOffsetMinutes?: number;
  /** MSH-10 of the ACKs: a function called once per ACK, or a string (a second ACK gets `.2`). */
  controlId: string | (() => string);
  /** Our MSH-3/MSH-4 when the message left its MSH-5/MSH-6 empty. */
  application?: string;
  facility?: string;
}

export interface Hl7Ack {
  /** original: the only ACK of original mode; accept / application: enhanced mode's two kinds. */
  level: 'original' | 'accept' | 'application';
  code: AckCode;
  controlId: string;
  /** HL7 text, each segment ended by CR. */
  text: string;
  /** `text` encoded in the message's character set, ready for frameMllp. */
  payload: Buffer;
}

export interface AckDetail {
  text?: string;
  code?: Hl7ErrorCode;
  location?: ErrorLocation;
}

/** Original mode when MSH-15 and MSH-16 are both empty, enhanced mode otherwise. */
export function ackMode(message: Hl7Message): 'original' | 'enhanced' {
  const { acceptAck, appAck } = message.msh;
  return acceptAck.trim() === '' && appAck.trim() === '' ? 'original' : 'enhanced';
}

/**
 * Whether an ACK is due under an MSH-15/16 condition. Empty counts as AL (the standard leaves it
 * open; an unexpected ACK is harmless where a missing one stalls the sender), and so do values
 * outside table 0155.
 */
function conditionAsks(condition: string, failed: boolean): boolean {
  switch (condition.trim().toUpperCase()) {
    case 'NE':
      return false;
    case 'ER':
      return failed;
    case 'SU':
      return !failed;
    default:
      return true;
  }
}

/**
 * The ACKs to send for `message`, in order: none, one, or in enhanced mode an accept ACK and then
 * an application ACK. A failed accept ACK (CE/CR) is not followed by an application ACK, since
 * the message never reached the application. ACKs are never acknowledged.
 */
export function decideAcks(
  message: Hl7Message,
  outcome: AckOutcome,
  context: AckContext,
): Hl7Ack[] {
  if (message.msh.messageType.code.toUpperCase() === 'ACK') return [];
  const ids = controlIds(context.controlId);
  const detail = outcomeDetail(message, outcome);
  if (ackMode(message) === 'original') {
    const code: AckCode =
      outcome.kind === 'accepted' ? 'AA' : outcome.kind === 'error' ? 'AE' : 'AR';
    return [buildAck(message, code, { ...context, controlId: ids() }, detail, 'original')];
  }
  const failed = outcome.kind !== 'accepted';
  const acks: Hl7Ack[] = [];
  if (conditionAsks(message.msh.acceptAck, failed)) {
    const code: AckCode =
      outcome.kind === 'accepted' ? 'CA' : outcome.kind === 'error' ? 'CE' : 'CR';
    acks.push(buildAck(message, code, { ...context, controlId: ids() }, detail, 'accept'));
    if (failed) return acks;
  }
  if (conditionAsks(message.msh.appAck, failed)) {
    const code: AckCode =
      outcome.kind === 'accepted' ? 'AA' : outcome.kind === 'error' ? 'AE' : 'AR';
    acks.push(buildAck(message, code, { ...context, controlId: ids() }, detail, 'application'));
  }
  return acks;
}

function controlIds(source: string | (() => string)): () => string {
  if (typeof source === 'function') return source;
  let calls = 0;
  return () => (++calls === 1 ? source : `${source}.${calls}`);
}

function outcomeDetail(message: Hl7Message, outcome: AckOutcome): AckDetail | undefined {
  if (outcome.kind === 'accepted') return undefined;
  if (outcome.kind === 'error') {
    return { text: outcome.text, code: outcome.code ?? '207', location: outcome.location };
  }
  const msh = message.msh;
  const type = [msh.messageType.code, msh.messageType.trigger].filter(Boolean).join('^');
  const reasons: Record<RejectReason, { code: Hl7ErrorCode; text: string; field?: number }> = {
    storage: {
      code: '207',
      text: 'the message could not be stored and was not accepted; send it again',
    },
    unsupported: {
      code: '200',
      text: `message type ${type || '(empty)'} is not supported`,
      field: 9,
    },
    'unsupported-event': {
      code: '201',
      text: `trigger event ${msh.messageType.trigger || '(empty)'} is not supported`,
      field: 9,
    },
    'unsupported-version': {
      code: '203',
      text: `HL7 version ${msh.version || '(empty)'} is not supported`,
      field: 12,
    },
    'unsupported-processing-id': {
      code: '202',
      text: `processing ID ${msh.processingId || '(empty)'} is not supported`,
      field: 11,
    },
    'unsupported-charset': {
      code: '207',
      text: `character set ${msh.charset || '(empty)'} is not supported`,
      field: 18,
    },
    busy: { code: '207', text: 'the receiver is busy; send the message again later' },
    other: { code: '207', text: 'the message was rejected' },
  };
  const reason = reasons[outcome.reason];
  const location =
    outcome.location ??
    (reason.field === undefined ? undefined : { segment: 'MSH', sequence: 1, field: reason.field });
  return { text: outcome.text ?? reason.text, code: reason.code, location };
}

/**
 * v2.5 moved error details from ERR-1 (ELD) to ERR-2..8; MSA-3 was withdrawn in v2.7. A version
 * that cannot be read gets `unknown`.
 */
function versionAtLeast(version: string, major: number, minor: number, unknown: boolean): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return unknown;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** One ACK for `message` with the given MSA-1 code. */
export function buildAck(
  message: Hl7Message,
  code: AckCode,
  context: AckContext,
  detail?: AckDetail,
  level: Hl7Ack['level'] = code.startsWith('C') ? 'accept' : 'original',
): Hl7Ack {
  const e = message.encoding;
  const original = message.segments[0]!;
  const msh = message.msh;
  const controlId =
    typeof context.controlId === 'function' ? context.controlId() : context.controlId;
  const now =
    typeof context.now === 'number'
      ? formatHl7DateTime(context.now, context.utcOffsetMinutes ?? 0)
      : context.now;
  const esc = (text: string) => escapeHl7(text, e);
  const choice = charsetFor(msh.charset);
  const charset = 'charset' in choice && choice.charset === 'utf8' ? 'utf8' : 'latin1';
  const keepCharset =
    'charset' in choice && (choice.charset === 'utf8' || choice.charset === 'latin1');

  const fields: string[] = [];
  fields[3] = original.raw(5) || esc(context.application ?? '');
  fields[4] = original.raw(6) || esc(context.facility ?? '');
  fields[5] = original.raw(3);
  fields[6] = original.raw(4);
  fields[7] = esc(now);
  fields[9] = `ACK${e.component}${esc(msh.messageType.trigger)}${e.component}ACK`;
  fields[10] = esc(controlId);
  fields[11] = original.raw(11);
  fields[12] = original.raw(12);
  if (level !== 'original') {
    fields[15] = 'NE';
    fields[16] = 'NE';
  }
  if (keepCharset) fields[18] = original.raw(18);
  let last = fields.length - 1;
  while (last > 2 && !fields[last]) last--;
  let text = `MSH${e.field}${encodingCharacters(e)}`;
  for (let i = 3; i <= last; i++) text += e.field + (fields[i] ?? '');
  text += '\r';

  const version = msh.version;
  const textInMsa = detail?.text !== undefined && !versionAtLeast(version, 2, 7, false);
  text += `MSA${e.field}${code}${e.field}${original.raw(10)}`;
  if (textInMsa) text += e.field + esc(detail.text!);
  text += '\r';
  if (detail !== undefined && code !== 'AA' && code !== 'CA')
    text += errSegment(e, version, detail) + '\r';

  return { level, code, controlId, text, payload: encodeHl7Text(text, charset) };
}

/**
 * ERR with the error code from table 0357 and the plain-language text as its description, so any
 * receiver that shows ERR-3 (or ERR-1 before v2.5) shows what went wrong.
 */
function errSegment(e: Hl7Encoding, version: string, detail: AckDetail): string {
  const code = detail.code ?? '207';
  const text = escapeHl7(detail.text || TABLE_0357[code], e);
  const where = detail.location;
  const parts = where
    ? [escapeHl7(where.segment, e), String(where.sequence ?? 1), String(where.field ?? '')]
    : ['', '', ''];
  if (versionAtLeast(version, 2, 5, true)) {
    if (where?.component !== undefined) parts.push('', String(where.component));
    const location = where ? trimTrailing(parts).join(e.component) : '';
    const error = [code, text, 'HL70357'].join(e.component);
    return ['ERR', '', location, error, 'E'].join(e.field);
  }
  const sub = e.subcomponent;
  const error = sub === '' ? code : [code, text, 'HL70357'].join(sub);
  return ['ERR', [...parts, error].join(e.component)].join(e.field);
}

function trimTrailing(values: string[]): string[] {
  let end = values.length;
  while (end > 0 && values[end - 1] === '') end--;
  return values.slice(0, end);
}
