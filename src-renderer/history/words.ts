/** Plain words for what the history shows: statuses, directions, acknowledgements, times. */
import type { Protocol } from '../../src-shared/results';
import type { ZonedParts } from '../../src-shared/time-zone';
import { displayParts } from '../display-zone';

const STATUS_WORDS: Record<string, string> = {
  stored: 'Stored',
  incomplete: 'Incomplete',
  error: 'Stored, with problems',
  rejected: 'Rejected',
  pending: 'Pending',
  sent: 'Sent',
  failed: 'Failed',
};

/** Statuses the filter offers; others the store may hold are shown as given. */
export const KNOWN_STATUSES = Object.keys(STATUS_WORDS);

export function statusWord(status: string): string {
  return STATUS_WORDS[status] ?? status.charAt(0).toUpperCase() + status.slice(1);
}

/** How serious a status is, for styling next to the word (never instead of it). */
export function statusTone(status: string): 'ok' | 'warn' | 'bad' | 'neutral' {
  switch (status) {
    case 'stored':
    case 'sent':
      return 'ok';
    case 'incomplete':
    case 'pending':
    case 'error':
      return 'warn';
    case 'rejected':
    case 'failed':
      return 'bad';
    default:
      return 'neutral';
  }
}

export function directionWord(direction: 'in' | 'out'): string {
  return direction === 'in' ? 'Received' : 'Sent';
}

export function protocolWord(protocol: Protocol): string {
  return protocol === 'astm' ? 'ASTM' : 'HL7';
}

/** Which way a chunk of the exchange went, seen from the gateway. */
export function traceDirectionWords(direction: 'in' | 'out'): string {
  return direction === 'in' ? 'analyzer → gateway' : 'gateway → analyzer';
}

const HL7_ACK_WORDS: Record<string, string> = {
  AA: 'accepted',
  AE: 'application error',
  AR: 'rejected',
  CA: 'commit accepted',
  CE: 'commit error',
  CR: 'commit rejected',
};

/** The acknowledgement the gateway sent or received, in words a technician can act on. */
export function ackWords(ack: string | null, direction: 'in' | 'out'): string {
  if (ack === null || ack.trim() === '') {
    return direction === 'in' ? 'Not acknowledged' : 'No acknowledgement received';
  }
  const codes = ack.trim().split(/\s+/);
  if (codes.length === 1 && codes[0] === 'ACK') return 'Acknowledged (ACK)';
  if (codes.length === 1 && codes[0] === 'NAK') return 'Refused (NAK)';
  const described = codes.map((code) => {
    const words = HL7_ACK_WORDS[code];
    return words ? `${code} ${words}` : code;
  });
  const refused = codes.some((code) => code !== 'AA' && code !== 'CA' && code !== 'ACK');
  return `${refused ? 'Not accepted' : 'Acknowledged'}: ${described.join(', ')}`;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `14:02:11` for today, `2025-03-01 14:02:11` otherwise; in the display zone (the gateway's). */
export function formatTime(ms: number, now: number = Date.now()): string {
  const date = displayParts(ms);
  const today = displayParts(now);
  const time = `${pad(date.hour)}:${pad(date.minute)}:${pad(date.second)}`;
  const sameDay = date.year === today.year && date.month === today.month && date.day === today.day;
  return sameDay ? time : `${formatDate(date)} ${time}`;
}

/** `2025-03-01 14:02:11.042`, in the display zone, for the detail header. */
export function formatFullTime(ms: number): string {
  const date = displayParts(ms);
  return (
    `${formatDate(date)} ${pad(date.hour)}:${pad(date.minute)}:` +
    `${pad(date.second)}.${pad(date.millisecond, 3)}`
  );
}

function formatDate(date: ZonedParts): string {
  return `${date.year}-${pad(date.month)}-${pad(date.day)}`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

export function listOrDash(values: readonly string[]): string {
  return values.length > 0 ? values.join(', ') : '—';
}

const STX = 0x02;
const ETX = 0x03;
const EOT = 0x04;
const ENQ = 0x05;
const ACK = 0x06;
const VT = 0x0b;
const NAK = 0x15;
const ETB = 0x17;

/** What one chunk of an exchange is, e.g. "frame 3 (last)", "refused (NAK)". */
export function describeChunk(bytes: Uint8Array): string {
  if (bytes.length === 0) return '';
  const first = bytes[0]!;
  if (bytes.length === 1) {
    switch (first) {
      case ENQ:
        return 'request to send (ENQ)';
      case ACK:
        return 'accepted (ACK)';
      case NAK:
        return 'refused (NAK)';
      case EOT:
        return 'end of transmission (EOT)';
      default:
        return '';
    }
  }
  if (first === STX && bytes.length > 1) {
    const number = String.fromCharCode(bytes[1]!);
    const kind = bytes.includes(ETX) ? 'last' : bytes.includes(ETB) ? 'more follows' : 'open';
    return /[0-7]/.test(number) ? `frame ${number} (${kind})` : `frame (${kind})`;
  }
  if (first === VT) return 'HL7 message (MLLP)';
  return '';
}

/** Whether a chunk says no: an ASTM NAK, or an HL7 acknowledgement with AE/AR/CE/CR. */
export function isRefusal(bytes: Uint8Array): boolean {
  if (bytes.length === 1) return bytes[0] === NAK;
  if (bytes[0] !== VT) return false;
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return /(^|\r)MSA\|(AE|AR|CE|CR)(\||\r|$)/.test(text.slice(1));
}
