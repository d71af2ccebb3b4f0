/**
 * Captures to messages for the `decode` command: MLLP-framed or bare HL7 in, one JSON-friendly
 * entry per message out. Nothing here throws; whatever cannot be read becomes a coded error on the
 * nearest message, and a damaged message still yields what could be read.
 */
import type { Result } from '../../../src-shared/results';
import { protocolError, type ProtocolError } from '../errors';
import type { CharsetOptions } from './charset';
import { MllpFramer, FS, VT } from './mllp';
import type { Hl7Message } from './message';
import { readHl7Payload } from './payload';
import { extractResults } from './results';
import { hl7DateTimeToIso } from './time';

/** A segment as written: `fields[0]` is field 1 (for MSH, the field separator), escapes intact. */
export interface DecodedHl7Segment {
  name: string;
  fields: string[];
}

export interface DecodedHl7Message {
  protocol: 'hl7';
  /** MSH-9 as `ORU^R01^ORU_R01`. */
  type: string | null;
  controlId: string | null;
  version: string | null;
  sendingApplication: string | null;
  sendingFacility: string | null;
  receivingApplication: string | null;
  receivingFacility: string | null;
  /** MSH-7 as ISO-8601. */
  dateTime: string | null;
  /** What the bytes were decoded with (`latin1`, `utf8`, ...). */
  charset: string;
  results: Result[];
  segments: DecodedHl7Segment[];
  errors: ProtocolError[];
}

export interface DecodeHl7Options extends CharsetOptions {
  /** Largest MLLP payload read; captures are trusted files, so there is no limit by default. */
  maxMessageBytes?: number;
}

const BATCH_SEGMENTS = new Set(['FHS', 'BHS', 'BTS', 'FTS']);

function isAlphanumeric(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a)
  );
}

function preview(text: string): string {
  const shown = text.slice(0, 40).replace(/[^\x20-\x7e]/g, '.');
  return JSON.stringify(text.length > 40 ? `${shown}...` : shown);
}

interface Piece {
  /** A message's bytes, or null for problems that belong to no message. */
  bytes: Buffer | null;
  errors: ProtocolError[];
  /** False for bytes with no MSH at all: shown split into lines, not parsed. */
  hl7: boolean;
}

/**
 * Cuts one block of bytes (an MLLP payload or a whole bare capture) into messages: each starts at
 * an MSH segment; batch envelopes (FHS/BHS/BTS/FTS) and blank lines only separate them.
 */
function splitMessages(bytes: Buffer): { messages: Buffer[]; before: string[] } {
  const s = bytes.toString('latin1');
  const messages: Buffer[] = [];
  const before: string[] = [];
  let messageStart = -1;
  let messageEnd = -1;
  let nextCr = -2;
  let nextLf = -2;
  let pos = 0;
  const close = () => {
    if (messageStart >= 0) messages.push(bytes.subarray(messageStart, messageEnd));
    messageStart = -1;
  };
  while (pos < s.length) {
    if (nextCr !== -1 && nextCr < pos) nextCr = s.indexOf('\r', pos);
    if (nextLf !== -1 && nextLf < pos) nextLf = s.indexOf('\n', pos);
    let end = s.length;
    if (nextCr >= 0) end = nextCr;
    if (nextLf >= 0 && nextLf < end) end = nextLf;
    let start = pos;
    while (start < end && s.charCodeAt(start) <= 0x20) start++;
    pos = end + 1;
    if (start === end) continue;
    const name = s.slice(start, start + 3);
    const boundary = end - start > 3 ? !isAlphanumeric(s.charCodeAt(start + 3)) : end - start === 3;
    if (name === 'MSH' && boundary) {
      close();
      messageStart = start;
      messageEnd = end;
    } else if (BATCH_SEGMENTS.has(name) && boundary) {
      close();
    } else if (messageStart >= 0) {
      messageEnd = end;
    } else {
      before.push(s.slice(start, end));
    }
  }
  close();
  return { messages, before };
}

/** The pieces of one block: its messages, or an HL7_NOT_HL7 entry when it holds none. */
function piecesOf(bytes: Buffer, errors: ProtocolError[]): Piece[] {
  const { messages, before } = splitMessages(bytes);
  if (messages.length === 0) {
    if (before.length === 0) return errors.length > 0 ? [{ bytes: null, errors, hl7: false }] : [];
    const notHl7 = protocolError(
      'HL7_NOT_HL7',
      `this is not HL7 v2: no MSH segment was found (the data starts with ${preview(before[0]!)})`,
    );
    return [{ bytes, errors: [...errors, notHl7], hl7: false }];
  }
  if (before.length > 0) {
    errors = [
      ...errors,
      protocolError(
        'HL7_NO_MSH',
        `${before.length} line${before.length === 1 ? '' : 's'} before the first MSH segment ` +
          `ignored (starting ${preview(before[0]!)})`,
      ),
    ];
  }
  return messages.map((message, index) => ({
    bytes: message,
    errors: index === 0 ? errors : [],
    hl7: true,
  }));
}

function splitRaw(bytes: Buffer): DecodedHl7Segment[] {
  const segments: DecodedHl7Segment[] = [];
  for (const line of bytes.toString('latin1').split(/\r\n|\n|\r/)) {
    if (line.trim() === '') continue;
    const [name, ...fields] = line.split('|');
    segments.push({ name: name!, fields });
  }
  return segments;
}

function emptyEntry(errors: ProtocolError[], charset = 'latin1'): DecodedHl7Message {
  return {
    protocol: 'hl7',
    type: null,
    controlId: null,
    version: null,
    sendingApplication: null,
    sendingFacility: null,
    receivingApplication: null,
    receivingFacility: null,
    dateTime: null,
    charset,
    results: [],
    segments: [],
    errors,
  };
}

const orNull = (value: string): string | null => (value.trim() === '' ? null : value.trim());

function segmentsOf(message: Hl7Message): DecodedHl7Segment[] {
  return message.segments.map((segment) => {
    const fields: string[] = [];
    for (let n = 1; n <= segment.fieldCount; n++) fields.push(segment.raw(n));
    return { name: segment.name, fields };
  });
}

/** One message's entry. Exported for links that already hold a single payload. */
export function decodeHl7Message(
  bytes: Buffer,
  options: CharsetOptions = {},
  errors: ProtocolError[] = [],
): DecodedHl7Message {
  const read = readHl7Payload(bytes, options);
  const allErrors = [...errors, ...read.errors];
  const message = read.message;
  if (message === null) {
    const entry = emptyEntry(allErrors, read.charset);
    entry.segments = splitRaw(bytes);
    return entry;
  }
  const msh = message.msh;
  const type = [msh.messageType.code, msh.messageType.trigger, msh.messageType.structure];
  while (type.length > 0 && type[type.length - 1] === '') type.pop();
  return {
    protocol: 'hl7',
    type: type.length === 0 ? null : type.join('^'),
    controlId: orNull(msh.controlId),
    version: orNull(msh.version),
    sendingApplication: orNull(msh.sendingApplication),
    sendingFacility: orNull(msh.sendingFacility),
    receivingApplication: orNull(msh.receivingApplication),
    receivingFacility: orNull(msh.receivingFacility),
    dateTime: hl7DateTimeToIso(msh.dateTime),
    charset: read.charset,
    results: extractResults(message),
    segments: segmentsOf(message),
    errors: allErrors,
  };
}

/** True when the bytes look MLLP-framed: a start block before any HL7 text. */
function isFramed(bytes: Buffer): boolean {
  const start = bytes.indexOf(VT);
  if (start < 0 || bytes.indexOf(FS, start) < 0) return false;
  const msh = bytes.indexOf('MSH');
  return msh < 0 || start < msh;
}

/**
 * Every message in a capture. MLLP framing is detected; without it the bytes are read as bare
 * HL7, messages separated by their MSH segments. Stream problems (bytes outside blocks, a bad end
 * block) are reported on the message that follows them.
 */
export function decodeHl7(
  bytes: Buffer,
  options: DecodeHl7Options = {},
): { messages: DecodedHl7Message[] } {
  const messages: DecodedHl7Message[] = [];
  try {
    const pieces: Piece[] = [];
    if (isFramed(bytes)) {
      const framer = new MllpFramer({
        maxMessageBytes: options.maxMessageBytes ?? Number.MAX_SAFE_INTEGER,
      });
      let pending: ProtocolError[] = [];
      const take = () => {
        const errors = pending;
        pending = [];
        return errors;
      };
      for (const item of [...framer.push(bytes), ...framer.end()]) {
        if (item.kind === 'message') {
          pieces.push(...piecesOf(item.payload, take()));
        } else if (item.kind === 'commit') {
          // A commit ACK/NAK carries no message; there is nothing to decode.
        } else if (item.partial !== undefined && item.partial.length > 0) {
          pieces.push(...piecesOf(item.partial, [...take(), item.error]));
        } else if (item.error.code === 'MLLP_MESSAGE_TOO_LARGE') {
          pieces.push({ bytes: null, errors: [...take(), item.error], hl7: false });
        } else {
          pending.push(item.error);
        }
      }
      if (pending.length > 0) {
        const last = pieces[pieces.length - 1];
        if (last) last.errors.push(...pending);
        else pieces.push({ bytes: null, errors: pending, hl7: false });
      }
    } else {
      pieces.push(...piecesOf(bytes, []));
    }
    for (const piece of pieces) {
      if (piece.hl7 && piece.bytes !== null) {
        messages.push(decodeHl7Message(piece.bytes, options, piece.errors));
      } else {
        const entry = emptyEntry(piece.errors);
        if (piece.bytes !== null) entry.segments = splitRaw(piece.bytes);
        messages.push(entry);
      }
    }
  } catch (error) {
    messages.push(
      emptyEntry([
        protocolError('HL7_NOT_HL7', `the capture could not be decoded: ${String(error)}`),
      ]),
    );
  }
  return { messages };
}
