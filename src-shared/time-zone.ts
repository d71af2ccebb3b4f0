/**
 * Times in one stated zone: the gateway's local time zone by default, named on screen, and
 * ISO-8601 with the offset in exports. Intl only, so the renderer and the main side share it.
 */

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** Minutes east of UTC at that moment, e.g. 60 for UTC+01:00, -300 for New York in winter. */
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? '';
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      ...(timeZone ? { timeZone } : {}),
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** The wall-clock parts of `ms` in `timeZone` (the process's own zone when absent). */
export function zonedParts(ms: number, timeZone?: string): ZonedParts {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const millisecond = ((ms % 1000) + 1000) % 1000;
  const wall = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
    millisecond,
  );
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
    millisecond,
    offsetMinutes: Math.round((wall - ms) / 60_000),
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `+01:00`, `-05:00`. */
export function formatOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `2026-11-26T11:16:01+01:00` (with `.123` when `millis`). */
export function isoWithOffset(ms: number, timeZone?: string, millis = false): string {
  const p = zonedParts(ms, timeZone);
  const fraction = millis ? `.${pad(p.millisecond, 3)}` : '';
  return (
    `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` +
    `${fraction}${formatOffset(p.offsetMinutes)}`
  );
}

/**
 * An analyzer's timestamp without a zone (`2026-11-26T10:15:00`), stated in `timeZone`: analyzers
 * keep the lab's local time, which is the gateway's. Values with a zone or not a time pass as sent.
 */
export function localStampWithOffset(stamp: string | null, timeZone?: string): string | null {
  if (stamp === null) return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/u.exec(stamp);
  if (!match) return stamp;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = match;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // The offset at that wall time: try the offset of the instant read as UTC, then correct once.
  let offset = zonedParts(wall, timeZone).offsetMinutes;
  offset = zonedParts(wall - offset * 60_000, timeZone).offsetMinutes;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${formatOffset(offset)}`;
}

/** The zone's name and offset now, as the screens state it: `Europe/Berlin (UTC+01:00)`. */
export function describeZone(timeZone: string | undefined, now: number): string {
  const name = timeZone ?? formatterFor(undefined).resolvedOptions().timeZone;
  return `${name} (UTC${formatOffset(zonedParts(now, timeZone).offsetMinutes)})`;
}

/** The process's own IANA zone name. */
export function localTimeZone(): string {
  return formatterFor(undefined).resolvedOptions().timeZone;
}

/**
 * The instant a wall-clock time `YYYY-MM-DDTHH:MM` (as a `datetime-local` input gives it) names
 * in `timeZone`; null when the text is not such a time. In a DST gap it moves on by the gap
 * (a 02:30 that does not exist is 03:30); in an overlap the earlier instant is meant.
 */
export function wallToEpoch(wall: string, timeZone?: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/u.exec(wall.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  const asUtc = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  if (Number.isNaN(asUtc) || new Date(asUtc).getUTCDate() !== day) return null;
  // The offset one day either side covers any change of offset near the time.
  const candidates = [asUtc - 86_400_000, asUtc, asUtc + 86_400_000].map(
    (probe) => asUtc - zonedParts(probe, timeZone).offsetMinutes * 60_000,
  );
  const exact = candidates
    .filter((ms) => {
      const parts = zonedParts(ms, timeZone);
      return (
        Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) ===
        asUtc
      );
    })
    .sort((a, b) => a - b);
  return exact[0] ?? Math.max(...candidates);
}
