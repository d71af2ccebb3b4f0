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
