/**
 * Wire bytes as a technician reads them: Latin-1 text with every control character replaced by
 * its Unicode control picture, so framing (␂ ␃ ␗ ␅ ␆ ␕ ␄, MLLP ␋ … ␜␍) is visible in the text.
 */

/** One run of plain text, or one control character shown as a symbol. */
export interface SymbolToken {
  text: string;
  control: boolean;
}

const CR = 0x0d;
const DEL = 0x7f;

/** Base64 (as the contract carries bytes) to bytes; invalid input gives no bytes. */
export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return new Uint8Array(0);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The symbol for a byte that would otherwise be invisible: U+2400 + code for C0 controls
 * (␂ STX, ␍ CR, ␜ FS …), ␡ for DEL, and the hex value for Latin-1's C1 range, which has no
 * pictures. Null for bytes that print as themselves.
 */
export function controlSymbol(byte: number): string | null {
  if (byte < 0x20) return String.fromCharCode(0x2400 + byte);
  if (byte === DEL) return '\u2421';
  if (byte >= 0x80 && byte <= 0x9f) return `⟨${byte.toString(16).toUpperCase()}⟩`;
  return null;
}

export interface SymbolOptions {
  /** Start a new line after each CR, as records and segments end with one. */
  breakAfterCr?: boolean;
}

/** Bytes decoded as Latin-1, control characters as symbols, plain runs merged. */
export function toSymbolTokens(bytes: Uint8Array, options: SymbolOptions = {}): SymbolToken[] {
  const breakAfterCr = options.breakAfterCr ?? true;
  const tokens: SymbolToken[] = [];
  let plain = '';
  const flush = (): void => {
    if (plain) tokens.push({ text: plain, control: false });
    plain = '';
  };
  for (const byte of bytes) {
    const symbol = controlSymbol(byte);
    if (symbol === null) {
      plain += String.fromCharCode(byte);
      continue;
    }
    flush();
    tokens.push({ text: symbol, control: true });
    if (byte === CR && breakAfterCr) plain = '\n';
  }
  flush();
  return tokens;
}

/** The same as `toSymbolTokens`, as one string. */
export function toSymbolText(bytes: Uint8Array, options?: SymbolOptions): string {
  return toSymbolTokens(bytes, options)
    .map((token) => token.text)
    .join('');
}

const LF = 0x0a;
const FS = 0x1c;
const ENQ = 0x05;
const EOT = 0x04;

export interface WireLineOptions {
  protocol: 'astm' | 'hl7';
  /** The character set the message was read with; Latin-1 when not known. */
  charset?: 'utf8' | 'latin1' | undefined;
}

/**
 * Wire bytes laid out as they are structured: ASTM one frame per line (a line ends after the
 * frame's checksum and its CR LF; ENQ and EOT on their own lines), HL7 one segment per line (a
 * line ends after each segment's CR, the block's closing FS CR staying on the last one). Text is
 * decoded with the message's character set; control characters are symbols.
 */
export function toWireLines(bytes: Uint8Array, options: WireLineOptions): SymbolToken[][] {
  const decoder = new TextDecoder(options.charset === 'utf8' ? 'utf-8' : 'latin1');
  const lines: SymbolToken[][] = [];
  let line: SymbolToken[] = [];
  let runStart = -1;
  const flushRun = (end: number): void => {
    if (runStart < 0) return;
    line.push({ text: decoder.decode(bytes.subarray(runStart, end)), control: false });
    runStart = -1;
  };
  const endLine = (): void => {
    lines.push(line);
    line = [];
  };
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const symbol =
      byte >= 0x80 && byte <= 0x9f && options.charset === 'utf8' ? null : controlSymbol(byte);
    if (symbol === null) {
      if (runStart < 0) runStart = i;
      continue;
    }
    flushRun(i);
    line.push({ text: symbol, control: true });
    const next = bytes[i + 1];
    if (options.protocol === 'astm') {
      // A frame ends with its checksum and CR LF (or just one of them); ENQ and EOT stand alone.
      const endsFrame = byte === LF || (byte === CR && next !== LF && isAfterChecksum(bytes, i));
      if (endsFrame || byte === ENQ || byte === EOT) endLine();
    } else if (byte === CR && next !== FS && next !== undefined) {
      endLine();
    }
  }
  flushRun(bytes.length);
  if (line.length > 0) lines.push(line);
  return lines;
}

/** True when the CR at `i` follows `ETX|ETB C1 C2`, so it ends a frame rather than a record. */
function isAfterChecksum(bytes: Uint8Array, i: number): boolean {
  const end = bytes[i - 3];
  return i >= 3 && (end === 0x03 || end === 0x17);
}
