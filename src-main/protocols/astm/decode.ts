/**
 * Decodes bytes as they crossed the wire (a capture, a stored transmission) into messages:
 * E1381 frames with or without ENQ/EOT, in any of the layouts real instruments use, or bare
 * E1394 records without framing. Damage is reported, never thrown: a frame with a bad checksum
 * still gives its text, a message cut short still gives its results, and bytes that are not
 * ASTM at all give one message saying so in plain words with the text that could be read.
 */
import { protocolError, type ProtocolError } from '../errors';
import { ACK, CR, ENQ, EOT, ETB, ETX, LF, NAK, STX, controlName } from './control';
import { DEFAULT_MAX_FRAME_TEXT, FrameScanner, type ReceivedFrame } from './frame';
import { assembleMessages, type DecodedAstmMessage, type RecordNote } from './message';
import {
  AstmRecord,
  DEFAULT_DELIMITERS,
  bytesToText,
  isDelimiterChar,
  isRecordType,
  printable,
  splitRecordLines,
  type AstmTextEncoding,
} from './records';

export type { DecodedAstmMessage } from './message';

export interface DecodeAstmOptions {
  /** The instrument's agreed text encoding; Latin-1 unless set. */
  encoding?: AstmTextEncoding;
}

export interface DecodedAstm {
  messages: DecodedAstmMessage[];
}

/** A transport problem at a byte offset of the reassembled record text. */
interface Note {
  offset: number;
  error: ProtocolError;
}

/** Record text reassembled from the input, with what went wrong on the way. */
interface Body {
  bytes: Buffer;
  notes: Note[];
  /** How the input was framed, for the not-ASTM explanation. */
  framing: string;
}

export function decodeAstm(input: Uint8Array, options: DecodeAstmOptions = {}): DecodedAstm {
  const bytes = Buffer.isBuffer(input)
    ? input
    : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const encoding = options.encoding ?? 'latin1';
  const body = bytes.indexOf(STX) < 0 ? unframed(bytes) : reassemble(bytes);
  const text = bytesToText(body.bytes, encoding);
  const { lines, offsets } = splitRecordLines(text);

  if (!lines.some(looksLikeRecord)) {
    const readable = readableText(bytes, encoding);
    if (readable !== '') return { messages: [notAstm(readable, body.framing)] };
    if (body.notes.length === 0) return { messages: [] };
    return { messages: [emptyMessage(body.notes.map((n) => n.error))] };
  }

  const records: AstmRecord[] = new Array<AstmRecord>(lines.length);
  let delimiters = DEFAULT_DELIMITERS;
  for (let i = 0; i < lines.length; i++) {
    const record = new AstmRecord(lines[i]!, delimiters);
    delimiters = record.delimiters;
    records[i] = record;
  }
  const charOffsets =
    encoding === 'latin1' ? body.notes.map((n) => n.offset) : utf8CharOffsets(body);
  const notes: RecordNote[] = [];
  let at = 0;
  for (let k = 0; k < body.notes.length; k++) {
    const offset = charOffsets[k]!;
    while (at + 1 < offsets.length && offsets[at + 1]! <= offset) at++;
    notes.push({ record: at, error: body.notes[k]!.error });
  }
  return { messages: assembleMessages(records, notes) };
}

// ---------------------------------------------------------------------------------------------
// Frames → record text

/**
 * Runs the frame scanner over the input one STX at a time, so a frame the scanner cannot
 * complete (cut short, no checksum) is known by position and its text can still be kept.
 */
function reassemble(bytes: Buffer): Body {
  const scanner = new FrameScanner(bytes.length + 1);
  const parts: Buffer[] = [];
  const notes: Note[] = [];
  let length = 0;
  let expected = 1;
  // The last frame delivered (-1: none since the start, an ENQ/EOT or a damaged frame), kept as
  // plain variables: a large capture has hundreds of thousands of frames.
  let previous = -1;
  let previousText: Buffer = RECORD_END;
  let previousParts = 0;
  let previousLength = 0;
  let previousNotes = 0;
  let previousRejected = false;
  let previousEndedMessage = false;
  let frames = 0;
  let damaged = 0;

  const append = (text: Buffer, final: boolean): void => {
    if (text.length > 0) {
      parts.push(text);
      length += text.length;
    }
    const lastByte = text.length > 0 ? text[text.length - 1] : undefined;
    // ETX ends the record even when a device leaves out the record's own CR.
    if (final && lastByte !== CR && lastByte !== LF) {
      parts.push(RECORD_END);
      length += 1;
    }
  };
  const note = (offset: number, error: ProtocolError): void => {
    notes.push({ offset, error });
  };

  const onFrame = (frame: ReceivedFrame, at: number): void => {
    frames++;
    const fn = frame.number;
    const label = fn === null ? `frame at byte ${at}` : `frame ${fn}`;
    const where = fn === null ? '' : ` (byte ${at})`;
    const noteStart = notes.length;
    const badChecksum = frame.checksum.toUpperCase() !== frame.expected;
    const rejected = badChecksum || frame.restricted !== null || fn === null;

    // Frame 1 again after a message's last frame is a new transmission whose ENQ was not
    // recorded (sender-side captures carry none); treating it as a retransmission would lose it.
    const restarts = fn === 1 && previousEndedMessage && !previousRejected;
    if (fn !== null && fn === previous && !restarts) {
      if (previousRejected) {
        // The sender repeats a frame the receiver refused: this copy replaces the refused one.
        parts.length = previousParts;
        length = previousLength;
        for (let k = previousNotes; k < noteStart; k++) {
          const old = notes[k]!;
          old.error = {
            ...old.error,
            message: `${old.error.message}; the retransmission that follows was used`,
          };
        }
      } else if (!rejected && frame.text.equals(previousText)) {
        return; // sent again after a lost ACK: already delivered
      } else {
        note(
          length,
          protocolError(
            'ASTM_BAD_FRAME_NUMBER',
            `${label}${where}: repeats the previous frame number with different text; both kept`,
          ),
        );
      }
    } else if (fn === null) {
      note(
        length,
        protocolError(
          'ASTM_BAD_FRAME_NUMBER',
          `${label}: no frame number digit after STX; the text was kept`,
        ),
      );
    } else if (fn !== expected && !(restarts && previous >= 0)) {
      note(
        length,
        protocolError(
          'ASTM_BAD_FRAME_NUMBER',
          `${label}${where}: expected frame number ${expected}; the text was kept`,
        ),
      );
    }
    if (badChecksum) {
      note(
        length,
        protocolError(
          'ASTM_BAD_CHECKSUM',
          `${label}${where}: checksum expected ${frame.expected}, got ${printable(frame.checksum)}`,
        ),
      );
    }
    if (frame.restricted !== null) {
      note(
        length,
        protocolError(
          'ASTM_RESTRICTED_CHARACTER',
          `${label}${where}: restricted character ${controlName(frame.restricted)} in the text`,
        ),
      );
    }
    if (frame.text.length > DEFAULT_MAX_FRAME_TEXT) {
      note(
        length,
        protocolError(
          'ASTM_FRAME_TOO_LARGE',
          `${label}${where}: ${frame.text.length} text bytes, more than E1381's ${DEFAULT_MAX_FRAME_TEXT}; the text was kept`,
        ),
      );
    }
    if (fn !== null) expected = (fn + 1) % 8;
    previous = fn ?? -1;
    previousText = frame.text;
    previousParts = parts.length;
    previousLength = length;
    previousNotes = noteStart;
    previousRejected = rejected;
    previousEndedMessage = frame.final && endsWithTerminator(frame.text);
    append(frame.text, frame.final);
  };

  /** A frame the scanner could not complete: keep its text up to where it stopped. */
  const salvage = (piece: Buffer, at: number): void => {
    damaged++;
    let end = 1;
    while (end < piece.length) {
      const b = piece[end]!;
      if (b === ETX || b === ETB || b === ENQ || b === EOT) break;
      end++;
    }
    const numbered = piece.length > 1 && piece[1]! >= 0x30 && piece[1]! <= 0x37;
    const start = numbered ? 2 : 1;
    const label = numbered ? `frame ${piece[1]! - 0x30} (byte ${at})` : `frame at byte ${at}`;
    const textBytes = Math.max(0, end - start);
    let why: string;
    if (end >= piece.length) why = `the input ends inside it after ${textBytes} text bytes`;
    else if (piece[end] === ETX || piece[end] === ETB) {
      why = `no two-character checksum after ${controlName(piece[end]!)}`;
    } else why = `cut short by ${controlName(piece[end]!)} after ${textBytes} text bytes`;
    note(length, protocolError('ASTM_BAD_FRAME', `${label}: ${why}; its text was kept`));
    append(piece.subarray(start, Math.max(start, end)), true);
    // Its number still counts: the frame after a damaged frame 2 is frame 3.
    if (numbered) expected = (piece[1]! - 0x30 + 1) % 8;
    previous = -1;
    previousEndedMessage = false;
  };

  let pos = 0;
  while (pos < bytes.length) {
    let next = bytes.indexOf(STX, pos + 1);
    if (next < 0) next = bytes.length;
    const piece = bytes.subarray(pos, next);
    const framePiece = bytes[pos] === STX;
    let completed = false;
    for (const item of scanner.push(piece)) {
      if (item.kind === 'frame') {
        completed = true;
        onFrame(item.frame, pos);
      } else if (item.kind === 'broken') {
        // Before whatever cut it short (an EOT restarts the numbering) is handled.
        completed = true;
        salvage(piece, pos);
      } else if (item.kind === 'control' && (item.byte === ENQ || item.byte === EOT)) {
        // A new transmission numbers its frames from 1 again.
        expected = 1;
        previous = -1;
        previousEndedMessage = false;
      }
    }
    if (framePiece && !completed) salvage(piece, pos);
    if (scanner.inFrame) scanner.reset();
    pos = next;
  }

  const framing =
    damaged === 0
      ? `${plural(frames, 'E1381 frame')}`
      : frames === 0
        ? `${plural(damaged, 'STX-framed block')} that ${damaged === 1 ? 'is not an E1381 frame' : 'are not E1381 frames'} (no frame number and checksum around the text)`
        : `${plural(frames, 'E1381 frame')} and ${plural(damaged, 'damaged frame')}`;
  return { bytes: Buffer.concat(parts, length), notes, framing };
}

const RECORD_END = Buffer.of(CR);

/** Bare records: the input is the record text, minus stray link-control bytes. */
function unframed(bytes: Buffer): Body {
  let text = bytes;
  if (bytes.includes(ENQ) || bytes.includes(EOT) || bytes.includes(ACK) || bytes.includes(NAK)) {
    text = Buffer.from(bytes.filter((b) => b !== ENQ && b !== EOT && b !== ACK && b !== NAK));
  }
  return { bytes: text, notes: [], framing: `${text.length} bytes of unframed text` };
}

/** True when a frame's last record is an L record: the sender's next frame may restart at 1. */
function endsWithTerminator(text: Buffer): boolean {
  let end = text.length;
  while (end > 0 && (text[end - 1] === CR || text[end - 1] === LF)) end--;
  let start = end;
  while (start > 0 && text[start - 1] !== CR && text[start - 1] !== LF) start--;
  const type = text[start];
  return (type === 0x4c || type === 0x6c) && end - start >= 2;
}

/** Byte offsets of the notes → character offsets of the UTF-8 decoded text. */
function utf8CharOffsets(body: Body): number[] {
  const out: number[] = [];
  let bytePos = 0;
  let charPos = 0;
  for (const n of body.notes) {
    const offset = Math.min(n.offset, body.bytes.length);
    if (offset > bytePos) {
      charPos += body.bytes.toString('utf8', bytePos, offset).length;
      bytePos = offset;
    }
    out.push(charPos);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Not ASTM

/** A record type letter followed by a delimiter: `R|`, `h|`. */
function looksLikeRecord(line: string): boolean {
  return isRecordType(line.charAt(0).toUpperCase()) && isDelimiterChar(line.charAt(1));
}

/** The input's text with framing and other control bytes taken out. */
function readableText(bytes: Buffer, encoding: AstmTextEncoding): string {
  let out = '';
  const text = bytesToText(bytes, encoding);
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return (out + text.slice(from)).trim();
}

function notAstm(readable: string, framing: string): DecodedAstmMessage {
  const flat = readable.replace(/\s+/gu, ' ');
  const shown = flat.length > 60 ? `${flat.slice(0, 60)}…` : flat;
  const hint = /^MSH\W/u.test(readable)
    ? ' It looks like HL7 v2 (an MSH segment): decode it as hl7.'
    : '';
  const error = protocolError(
    'ASTM_NOT_ASTM',
    `not ASTM: no H record and no line shaped like an ASTM record (a record type letter, then the field delimiter); found ${framing}; its text starts "${shown}".${hint}`,
  );
  return { ...emptyMessage([error]), text: readable };
}

function emptyMessage(errors: ProtocolError[]): DecodedAstmMessage {
  return {
    protocol: 'astm',
    header: null,
    records: [],
    results: [],
    resultSources: [],
    comments: [],
    queries: [],
    termination: null,
    text: '',
    errors,
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
