/**
 * HL7 escape sequences, always with the message's own escape character (`\` is only the usual
 * one). Decoding keeps what it cannot interpret: an unknown or unterminated sequence stays in the
 * text as written, so a sloppy sender's `C:\data\x` survives instead of being eaten.
 */
import type { Hl7Encoding } from './encoding';

/** How `\Xhh..\` bytes become text: the message's own character set. */
export type HexCharset = 'latin1' | 'utf8';

const FORMATTING = new Set(['.fi', '.nf', '.in', '.ti', '.sk', '.ce']);

export function unescapeHl7(
  text: string,
  encoding: Hl7Encoding,
  hexCharset: HexCharset = 'latin1',
): string {
  const esc = encoding.escape;
  if (esc === '') return text;
  let at = text.indexOf(esc);
  if (at < 0) return text;
  let out = '';
  let from = 0;
  while (at >= 0) {
    const end = text.indexOf(esc, at + 1);
    if (end < 0) break;
    const decoded =
      end === at + 2
        ? decodeSingle(text.charCodeAt(at + 1), encoding)
        : decodeSequence(text.slice(at + 1, end), encoding, hexCharset);
    if (decoded !== null) {
      out += text.slice(from, at) + decoded;
      from = end + 1;
    }
    at = text.indexOf(esc, end + 1);
  }
  return from === 0 ? text : out + text.slice(from);
}

/** The one-letter sequences, by character code: the common case, kept free of slicing. */
function decodeSingle(code: number, encoding: Hl7Encoding): string | null {
  switch (code) {
    case 0x46: // F
      return encoding.field;
    case 0x53: // S
      return encoding.component;
    case 0x54: // T
      return encoding.subcomponent;
    case 0x52: // R
      return encoding.repetition;
    case 0x45: // E
      return encoding.escape;
    case 0x50: // P
      return encoding.truncation === '' ? null : encoding.truncation;
    case 0x48: // H and N: highlighting on/off, presentation only
    case 0x4e:
      return '';
    default:
      return null;
  }
}

function decodeSequence(seq: string, encoding: Hl7Encoding, hexCharset: HexCharset): string | null {
  const kind = seq.charCodeAt(0);
  if (kind === 0x2e /* . */) {
    if (seq === '.br') return '\n';
    if (seq.startsWith('.sp')) {
      const count = seq.slice(3).trim();
      if (count === '') return '\n';
      return /^\d{1,3}$/.test(count) ? '\n'.repeat(Math.max(1, Number(count))) : null;
    }
    return FORMATTING.has(seq.slice(0, 3)) ? '' : null;
  }
  if (kind === 0x58 /* X */) {
    const hex = seq.slice(1);
    if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
    return Buffer.from(hex, 'hex').toString(hexCharset);
  }
  // \Cxxyy\ and \Mxxyyzz\ switch ISO 2022 character sets mid-text; the bytes after them were
  // already decoded with the message's charset, so the switch itself carries no text.
  if (/^[CM][0-9A-Fa-f]{4,6}$/.test(seq)) {
    return '';
  }
  return null;
}

/** Escapes every delimiter, the escape character itself, CR and LF, so any string round-trips. */
export function escapeHl7(text: string, encoding: Hl7Encoding): string {
  const esc = encoding.escape;
  if (esc === '' || !needsEscape(text, encoding)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === encoding.field) out += `${esc}F${esc}`;
    else if (ch === encoding.component) out += `${esc}S${esc}`;
    else if (ch === encoding.subcomponent) out += `${esc}T${esc}`;
    else if (ch === encoding.repetition) out += `${esc}R${esc}`;
    else if (ch === esc) out += `${esc}E${esc}`;
    else if (ch === encoding.truncation) out += `${esc}P${esc}`;
    else if (ch === '\n') out += `${esc}.br${esc}`;
    else if (ch === '\r') out += `${esc}X0D${esc}`;
    else out += ch;
  }
  return out;
}

function needsEscape(text: string, encoding: Hl7Encoding): boolean {
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (
      ch === encoding.field ||
      ch === encoding.component ||
      ch === encoding.subcomponent ||
      ch === encoding.repetition ||
      ch === encoding.escape ||
      ch === encoding.truncation ||
      ch === '\n' ||
      ch === '\r'
    ) {
      return true;
    }
  }
  return false;
}
