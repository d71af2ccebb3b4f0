/**
 * HL7 DTM values (`YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`) to and from the forms the
 * gateway uses. Calendar arithmetic is done by hand because protocol code takes time from the
 * injected Clock as a number and never constructs a Date.
 */
import { formatCompactTimestamp } from '../timestamp';

/**
 * `YYYYMMDDHHMMSS` for an instant, as wall-clock time at `utcOffsetMinutes` east of UTC (the
 * caller knows the site's offset; protocol code does not look it up).
 */
export function formatHl7DateTime(epochMs: number, utcOffsetMinutes = 0): string {
  return formatCompactTimestamp(epochMs, utcOffsetMinutes);
}

const DTM =
  /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?(?:([+-])(\d{2})(\d{2})?)?$/;

/**
 * ISO-8601 for an HL7 DTM: `20240101115500` → `2024-01-01T11:55:00`, `...+0100` keeps its zone as
 * `+01:00`, no zone when the value has none. A time of day is always given to the second; dates
 * keep their precision (`202401` → `2024-01`). Returns null for an empty value and the trimmed
 * text itself for one that is not a valid DTM, so nothing the instrument sent is lost.
 */
export function hl7DateTimeToIso(value: string): string | null {
  const text = value.trim();
  if (text === '') return null;
  const m = DTM.exec(text);
  if (!m) return text;
  const [, year, month, day, hour, minute, second, fraction, sign, zoneHours, zoneMinutes] = m;
  if (month !== undefined && !inRange(month, 1, 12)) return text;
  if (day !== undefined && !inRange(day, 1, 31)) return text;
  if (hour !== undefined && !inRange(hour, 0, 23)) return text;
  if (minute !== undefined && !inRange(minute, 0, 59)) return text;
  if (second !== undefined && !inRange(second, 0, 60)) return text;
  if (zoneHours !== undefined && !inRange(zoneHours, 0, 14)) return text;
  let iso = year!;
  if (month !== undefined) iso += `-${month}`;
  if (day !== undefined) iso += `-${day}`;
  if (hour === undefined) return iso;
  iso += `T${hour}:${minute ?? '00'}:${second ?? '00'}`;
  if (fraction !== undefined) iso += `.${fraction}`;
  if (sign !== undefined) iso += `${sign}${zoneHours}:${zoneMinutes ?? '00'}`;
  return iso;
}

function inRange(digits: string, low: number, high: number): boolean {
  const n = Number(digits);
  return n >= low && n <= high;
}
