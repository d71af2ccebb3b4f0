/**
 * HL7 v2 text from a decoded tree. Values are escaped with the target encoding, so a tree parsed
 * from one message can be written out with other delimiters and read back unchanged.
 */
import {
  DEFAULT_ENCODING,
  encodingCharacters,
  encodingProblem,
  type Hl7Encoding,
} from './encoding';
import { escapeHl7 } from './escape';
import { Hl7Message, type Hl7Field, type Hl7MessageData } from './message';

/** A plain string is one value (escaped on output); a tree gives repetitions/components. */
export type Hl7FieldInput = string | Hl7Field;

export interface Hl7SegmentInput {
  name: string;
  /** `fields[0]` is field 1. For MSH, fields 1 and 2 are written from the encoding, whatever is here. */
  fields: readonly Hl7FieldInput[];
}

export interface Hl7MessageInput {
  encoding?: Hl7Encoding;
  segments: readonly Hl7SegmentInput[];
}

function isHeaderName(name: string): boolean {
  return name === 'MSH' || name === 'FHS' || name === 'BHS';
}

function serializeField(field: Hl7FieldInput, e: Hl7Encoding): string {
  if (typeof field === 'string') return escapeHl7(field, e);
  let out = '';
  for (let r = 0; r < field.length; r++) {
    if (r > 0) out += e.repetition;
    const repetition = field[r]!;
    for (let c = 0; c < repetition.length; c++) {
      if (c > 0) out += e.component;
      const component = repetition[c]!;
      for (let s = 0; s < component.length; s++) {
        if (s > 0) out += e.subcomponent;
        out += escapeHl7(component[s]!, e);
      }
    }
  }
  return out;
}

/** One segment's text, without its CR. */
export function serializeSegment(
  segment: Hl7SegmentInput,
  encoding: Hl7Encoding = DEFAULT_ENCODING,
): string {
  let out = segment.name;
  const header = isHeaderName(segment.name);
  for (let i = 0; i < segment.fields.length; i++) {
    if (header && i < 2) {
      if (i === 1) out += encodingCharacters(encoding);
      else out += encoding.field;
      continue;
    }
    out += encoding.field + serializeField(segment.fields[i]!, encoding);
  }
  if (header && segment.fields.length < 2) {
    out += (segment.fields.length === 0 ? encoding.field : '') + encodingCharacters(encoding);
  }
  return out;
}

/**
 * The message as HL7 text, every segment ended by CR. Throws RangeError for delimiters that cannot
 * work (repeated, alphanumeric, CR/LF). Without an escape character (a short MSH-2) values are
 * written as they are.
 */
export function serializeHl7(message: Hl7MessageInput | Hl7MessageData | Hl7Message): string {
  const data: Hl7MessageInput = message instanceof Hl7Message ? message.toJSON() : message;
  const encoding = data.encoding ?? DEFAULT_ENCODING;
  const problem = encodingProblem(encoding);
  if (problem !== null) throw new RangeError(`cannot write HL7 with these delimiters: ${problem}`);
  let out = '';
  for (const segment of data.segments) out += serializeSegment(segment, encoding) + '\r';
  return out;
}
