/** E1381 control bytes. */
export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const ENQ = 0x05;
export const ACK = 0x06;
export const LF = 0x0a;
export const CR = 0x0d;
export const NAK = 0x15;
export const ETB = 0x17;

const NAMES: Record<number, string> = {
  [STX]: 'STX',
  [ETX]: 'ETX',
  [EOT]: 'EOT',
  [ENQ]: 'ENQ',
  [ACK]: 'ACK',
  [LF]: 'LF',
  [CR]: 'CR',
  [NAK]: 'NAK',
  [ETB]: 'ETB',
};

/** "ENQ" for 0x05, "0x1F" for anything without a name. */
export function controlName(byte: number): string {
  return NAMES[byte] ?? `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Bytes E1381 forbids inside frame text [6.6]: 01–06, 0A, 10–17. CR is allowed. */
export function isRestricted(byte: number): boolean {
  return (byte >= 0x01 && byte <= 0x06) || byte === LF || (byte >= 0x10 && byte <= 0x17);
}
