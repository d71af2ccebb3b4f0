/**
 * LIS2-A2 timestamps (`YYYYMMDDHHMMSS`, often cut to the precision the instrument has) to and
 * from ISO-8601. Pure arithmetic: protocol code gets its time from the injected clock, as epoch
 * milliseconds.
 */
import { formatCompactTimestamp } from '../timestamp';

/**
 * `20240101115500` → `2024-01-01T11:55:00`; `20240101` → `2024-01-01`; `202401011155` →
 * `2024-01-01T11:55`; `2024010111` → `2024-01-01T11:00` (an hour alone is not a form most ISO
 * readers accept, and minute zero claims nothing the hour did not); fractional seconds and a
 * zone (`+0100`, `Z`) are kept. Padding spaces are ignored. Null when empty or not a date.
 */
export function toIsoTimestamp(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  // The results of one message nearly always share one timestamp.
  if (raw === lastRaw) return lastIso;
  const iso = convert(raw);
  lastRaw = raw;
  lastIso = iso;
  return iso;
}

let lastRaw = '';
let lastIso: string | null = null;

function convert(raw: string): string | null {
  const text = raw.trim();
  if (text === '') return null;
  if (text.charCodeAt(4) === 0x2d /* - */) return isoAlready(text);
  let digits = 0;
  while (digits < text.length && isDigit(text.charCodeAt(digits))) digits++;
  const rest = text.slice(digits);
  if (digits === 4) return rest === '' ? text : null;
  if (digits === 6) {
    const month = text.slice(4, 6);
    return rest === '' && validRange(month, 1, 12) ? `${text.slice(0, 4)}-${month}` : null;
  }
  if (digits < 8 || digits > 14 || digits % 2 !== 0) return null;
  const year = text.slice(0, 4);
  const month = text.slice(4, 6);
  const day = text.slice(6, 8);
  if (!validRange(month, 1, 12) || !validRange(day, 1, daysIn(Number(year), Number(month)))) {
    return null;
  }
  let out = `${year}-${month}-${day}`;
  if (digits === 8) return rest === '' ? out : null;
  const hour = text.slice(8, 10);
  const minute = digits >= 12 ? text.slice(10, 12) : '00';
  if (!validRange(hour, 0, 23) || !validRange(minute, 0, 59)) return null;
  out += `T${hour}:${minute}`;
  let at = 0;
  if (digits === 14) {
    const second = text.slice(12, 14);
    if (!validRange(second, 0, 60)) return null;
    out += `:${second}`;
    if (rest[0] === '.' || rest[0] === ',') {
      let end = 1;
      while (end < rest.length && isDigit(rest.charCodeAt(end))) end++;
      if (end === 1) return null;
      out += `.${rest.slice(1, end)}`;
      at = end;
    }
  }
  const zone = zoneSuffix(rest.slice(at));
  return zone === null ? null : out + zone;
}

function zoneSuffix(text: string): string | null {
  if (text === '') return '';
  if (text === 'Z' || text === 'z') return 'Z';
  const sign = text[0];
  if (sign !== '+' && sign !== '-') return null;
  const body = text.slice(1).replace(':', '');
  if (body.length !== 4 || !/^\d{4}$/u.test(body)) return null;
  if (!validRange(body.slice(0, 2), 0, 14) || !validRange(body.slice(2), 0, 59)) return null;
  return `${sign}${body.slice(0, 2)}:${body.slice(2)}`;
}

/** Some instruments send ISO-like text already (`2024-01-01 11:55:00`): normalise the `T`. */
function isoAlready(text: string): string | null {
  const match =
    /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?(Z|[+-]\d{2}:?\d{2})?$/u.exec(
      text,
    );
  if (match === null) return null;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  if (!validRange(month!, 1, 12)) return null;
  let out = `${year}-${month}`;
  if (day !== undefined) {
    if (!validRange(day, 1, daysIn(Number(year), Number(month)))) return null;
    out += `-${day}`;
  }
  if (hour !== undefined) {
    if (!validRange(hour, 0, 23) || !validRange(minute!, 0, 59)) return null;
    out += `T${hour}:${minute}`;
  }
  if (second !== undefined) {
    if (!validRange(second, 0, 60)) return null;
    out += `:${second}`;
  }
  if (fraction !== undefined) out += `.${fraction}`;
  if (zone !== undefined) {
    const suffix = zoneSuffix(zone);
    if (suffix === null) return null;
    out += suffix;
  }
  return out;
}

/**
 * ISO-8601 (`2024-01-01T11:55:00`, any precision, zone dropped) or LIS2-A2 digits → the
 * `YYYYMMDDHHMMSS` digits an outgoing record carries. Anything else is returned unchanged.
 */
export function toAstmTimestamp(value: string): string {
  const text = value.trim();
  if (/^\d+$/u.test(text)) return text;
  const match = /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)?/u.exec(text);
  if (match === null) return value;
  return match.slice(1).join('');
}

/**
 * Epoch milliseconds (from the injected clock) → `YYYYMMDDHHMMSS` in the zone `utcOffsetMinutes`
 * east of UTC. Instruments expect local time without a zone; the caller knows the offset.
 */
export function formatAstmTimestamp(epochMs: number, utcOffsetMinutes = 0): string {
  return formatCompactTimestamp(epochMs, utcOffsetMinutes);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function validRange(text: string, min: number, max: number): boolean {
  if (text.length !== 2 || !isDigit(text.charCodeAt(0)) || !isDigit(text.charCodeAt(1))) {
    return false;
  }
  const n = Number(text);
  return n >= min && n <= max;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
