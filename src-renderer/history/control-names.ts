/** Names of the C0 control characters, for the tooltip on each symbol. */
const C0_NAMES = [
  'NUL',
  'SOH',
  'STX',
  'ETX',
  'EOT',
  'ENQ',
  'ACK',
  'BEL',
  'BS',
  'TAB',
  'LF',
  'VT',
  'FF',
  'CR',
  'SO',
  'SI',
  'DLE',
  'DC1',
  'DC2',
  'DC3',
  'DC4',
  'NAK',
  'SYN',
  'ETB',
  'CAN',
  'EM',
  'SUB',
  'ESC',
  'FS',
  'GS',
  'RS',
  'US',
];

/** `␂` → `STX`; the symbol itself for anything else. */
export function controlName(symbol: string): string {
  const code = symbol.codePointAt(0) ?? 0;
  if (code >= 0x2400 && code < 0x2420) return C0_NAMES[code - 0x2400]!;
  if (code === 0x2421) return 'DEL';
  return symbol;
}
