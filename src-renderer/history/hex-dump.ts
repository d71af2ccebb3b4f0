/** A classic hex dump: offset, 16 bytes in hex (two groups of 8), and the printable ASCII. */

export interface HexLine {
  offset: string;
  hex: string;
  ascii: string;
}

export interface HexDump {
  lines: HexLine[];
  /** Bytes left out because of `maxBytes`. */
  omitted: number;
}

export const BYTES_PER_LINE = 16;

/** Long enough for 16 bytes with the gap after the eighth, so short lines keep the columns. */
const HEX_WIDTH = BYTES_PER_LINE * 3;

export function hexDump(bytes: Uint8Array, maxBytes = Number.POSITIVE_INFINITY): HexDump {
  const shown = Math.min(bytes.length, maxBytes);
  const lines: HexLine[] = [];
  for (let start = 0; start < shown; start += BYTES_PER_LINE) {
    const end = Math.min(start + BYTES_PER_LINE, shown);
    let hex = '';
    let ascii = '';
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (i > start) hex += i - start === 8 ? '  ' : ' ';
      hex += byte.toString(16).toUpperCase().padStart(2, '0');
      ascii += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.';
    }
    lines.push({
      offset: start.toString(16).toUpperCase().padStart(8, '0'),
      hex: hex.padEnd(HEX_WIDTH, ' '),
      ascii,
    });
  }
  return { lines, omitted: bytes.length - shown };
}
