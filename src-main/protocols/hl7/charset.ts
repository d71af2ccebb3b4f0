/**
 * Bytes to text by MSH-18. MSH-18 sits inside the very bytes it describes, so it is read from the
 * header as Latin-1 (every byte maps to one character, and HL7 keeps MSH-1..18 in ASCII) before
 * the whole message is decoded.
 */
import { isUtf8 } from 'node:buffer';
import { protocolError, type ProtocolError } from '../errors';

/**
 * What the text was decoded with: Node's `latin1` or `utf8`, or a WHATWG label TextDecoder knows
 * (`iso-8859-2`, `gb18030`, ...).
 */
export type Hl7Charset = string;

export interface Hl7DecodedText {
  text: string;
  charset: Hl7Charset;
  /** MSH-18 as written (first repetition, trimmed), '' when absent. */
  declared: string;
  errors: ProtocolError[];
}

export interface CharsetOptions {
  /** Used when MSH-18 is empty. HL7's own default is 8859/1; some instruments send UTF-8. */
  defaultCharset?: 'latin1' | 'utf8';
}

const UNSUPPORTED = new Set([
  'UNICODE UTF-16',
  'UNICODE UTF-32',
  'UTF-16',
  'UTF-32',
  'UTF16',
  'UTF32',
]);

/** HL7 table 0211 names, and the spellings real senders use instead, mapped to decoders. */
const KNOWN: Record<string, Hl7Charset> = {
  ASCII: 'latin1',
  '8859/1': 'latin1',
  'ISO-8859-1': 'latin1',
  'ISO8859-1': 'latin1',
  'ISO 8859-1': 'latin1',
  LATIN1: 'latin1',
  UNICODE: 'utf8',
  'UNICODE UTF-8': 'utf8',
  'UTF-8': 'utf8',
  UTF8: 'utf8',
  'GB 18030': 'gb18030',
  'BIG-5': 'big5',
  'KS X 1001': 'euc-kr',
};

/**
 * The decoder for an MSH-18 value, or an error for one that MLLP cannot carry (UTF-16/32 put NUL
 * bytes on the wire) or this runtime cannot decode.
 */
export function charsetFor(
  declared: string,
  options: CharsetOptions = {},
): { charset: Hl7Charset } | { error: ProtocolError } {
  const name = declared.trim().toUpperCase().replace(/\s+/g, ' ');
  if (name === '') return { charset: options.defaultCharset ?? 'latin1' };
  const known = KNOWN[name];
  if (known !== undefined) return { charset: known };
  if (UNSUPPORTED.has(name)) {
    return {
      error: protocolError(
        'HL7_UNSUPPORTED_CHARSET',
        `MSH-18 declares ${declared.trim()}, which cannot travel over MLLP; only single-byte ` +
          'character sets and UTF-8 can',
      ),
    };
  }
  const iso = /^8859\/(\d{1,2})$/.exec(name);
  const label = iso ? `iso-8859-${iso[1]}` : name.toLowerCase();
  if (supportedByTextDecoder(label)) return { charset: label };
  return {
    error: protocolError(
      'HL7_UNSUPPORTED_CHARSET',
      `MSH-18 declares ${declared.trim()}, a character set the gateway cannot decode`,
    ),
  };
}

function supportedByTextDecoder(label: string): boolean {
  if (/^utf-?(16|32)/.test(label)) return false;
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

/** MSH-18 of the first MSH in `payload` (first repetition, trimmed); null when there is no MSH. */
export function declaredCharset(payload: Uint8Array): string | null {
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const start = bytes.indexOf('MSH');
  if (start < 0 || start + 3 >= bytes.length) return null;
  let end = bytes.indexOf(0x0d, start);
  const lf = bytes.indexOf(0x0a, start);
  if (end < 0 || (lf >= 0 && lf < end)) end = lf;
  const header = bytes.toString('latin1', start, end < 0 ? bytes.length : end);
  if (header.length < 4) return '';
  const fieldSeparator = header[3]!;
  const parts = header.split(fieldSeparator);
  const msh18 = parts[17] ?? '';
  const repetition = parts[1]?.[1];
  const first = repetition ? msh18.split(repetition)[0]! : msh18;
  return first.trim();
}

const UTF8_BOM = 0xef_bb_bf;

/**
 * Decodes one message's bytes by its MSH-18. Never throws: an unsupported charset or bytes that
 * are not what MSH-18 claims come back as errors, with the text read as Latin-1 so that no byte is
 * lost.
 */
export function decodeHl7Bytes(payload: Buffer, options: CharsetOptions = {}): Hl7DecodedText {
  let bytes = payload;
  let fallback = options.defaultCharset ?? 'latin1';
  if (bytes.length >= 3 && bytes.readUIntBE(0, 3) === UTF8_BOM) {
    bytes = bytes.subarray(3);
    fallback = 'utf8';
  }
  const declared = declaredCharset(bytes) ?? '';
  const choice = charsetFor(declared, { defaultCharset: fallback });
  if ('error' in choice) {
    return { text: bytes.toString('latin1'), charset: 'latin1', declared, errors: [choice.error] };
  }
  const { charset } = choice;
  if (charset === 'latin1') {
    return { text: bytes.toString('latin1'), charset, declared, errors: [] };
  }
  if (charset === 'utf8') {
    if (isUtf8(bytes)) return { text: bytes.toString('utf8'), charset, declared, errors: [] };
    return {
      text: bytes.toString('latin1'),
      charset: 'latin1',
      declared,
      errors: [
        protocolError(
          'HL7_BAD_ENCODING',
          `${declared === '' ? 'the link is set to UTF-8' : `MSH-18 declares ${declared}`} but the ` +
            'bytes are not valid UTF-8; read as Latin-1 so that no byte is lost',
        ),
      ],
    };
  }
  try {
    const text = new TextDecoder(charset, { fatal: true }).decode(bytes);
    return { text, charset, declared, errors: [] };
  } catch {
    return {
      text: bytes.toString('latin1'),
      charset: 'latin1',
      declared,
      errors: [
        protocolError(
          'HL7_BAD_ENCODING',
          `MSH-18 declares ${declared} but the bytes do not decode as ${charset}; read as Latin-1`,
        ),
      ],
    };
  }
}

/**
 * Text to bytes for sending. Only UTF-8 and Latin-1 can be written; other declared sets fall back
 * to Latin-1, which is exact for the ASCII that ACKs and generated messages hold.
 */
export function encodeHl7Text(text: string, charset: Hl7Charset = 'latin1'): Buffer {
  return Buffer.from(text, charset === 'utf8' ? 'utf8' : 'latin1');
}

/** The charset a message's bytes should be written in, from its MSH-18 (Latin-1 when unusable). */
export function charsetForSending(declared: string, options: CharsetOptions = {}): Hl7Charset {
  const choice = charsetFor(declared, options);
  return 'charset' in choice && choice.charset === 'utf8' ? 'utf8' : 'latin1';
}
