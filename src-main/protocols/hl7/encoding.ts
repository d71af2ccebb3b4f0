/**
 * The delimiters of one HL7 v2 message: MSH-1 and MSH-2 as that message declares them. Nothing in
 * this folder assumes `|^~\&`; every parse and serialize goes through one of these.
 */
export interface Hl7Encoding {
  /** MSH-1. */
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  readonly escape: string;
  readonly subcomponent: string;
  /** The v2.7 truncation character (5th of MSH-2), '' when the message declares none. */
  readonly truncation: string;
}

export const DEFAULT_ENCODING: Hl7Encoding = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
  truncation: '',
});

/** MSH-2 as written: component, repetition, escape, subcomponent, then truncation if any. */
export function encodingCharacters(encoding: Hl7Encoding): string {
  return (
    encoding.component +
    encoding.repetition +
    encoding.escape +
    encoding.subcomponent +
    encoding.truncation
  );
}

/**
 * Why a set of delimiters cannot work, or null when it can. Delimiters must be single characters,
 * distinct, and neither letters, digits, CR nor LF, or segments and fields become ambiguous.
 * Only the field separator is mandatory: a short MSH-2 leaves the later delimiters unused ('').
 */
export function encodingProblem(encoding: Hl7Encoding): string | null {
  const all = [encoding.field];
  for (const ch of [
    encoding.component,
    encoding.repetition,
    encoding.escape,
    encoding.subcomponent,
    encoding.truncation,
  ]) {
    if (ch !== '') all.push(ch);
  }
  for (const ch of all) {
    if (ch.length !== 1) return `delimiter ${JSON.stringify(ch)} is not a single character`;
    if (/[A-Za-z0-9\r\n]/.test(ch)) return `delimiter ${JSON.stringify(ch)} is not allowed`;
  }
  if (new Set(all).size !== all.length) return `delimiters ${JSON.stringify(all.join(''))} repeat`;
  return null;
}
