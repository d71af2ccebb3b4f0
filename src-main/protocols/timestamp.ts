/**
 * Wall-clock timestamps without `Date`, so protocol code stays on the injected clock: both ASTM
 * and HL7 write instants as `YYYYMMDDHHMMSS`.
 */

/** Civil date from days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm). */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/**
 * Epoch milliseconds → `YYYYMMDDHHMMSS` as wall-clock time `utcOffsetMinutes` east of UTC (the
 * caller knows the site's offset; protocol code does not look it up).
 */
export function formatCompactTimestamp(epochMs: number, utcOffsetMinutes = 0): string {
  const totalSeconds = Math.floor(epochMs / 1000) + Math.round(utcOffsetMinutes) * 60;
  const days = Math.floor(totalSeconds / 86_400);
  const secondOfDay = totalSeconds - days * 86_400;
  const { year, month, day } = civilFromDays(days);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  const second = secondOfDay % 60;
  return `${pad(year, 4)}${pad(month)}${pad(day)}${pad(hour)}${pad(minute)}${pad(second)}`;
}
