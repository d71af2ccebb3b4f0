/**
 * Durations as a technician gives them, an amount in minutes or hours, and the milliseconds the
 * configuration keeps.
 */

export type DurationUnit = 'minutes' | 'hours';

export const UNIT_MS: Readonly<Record<DurationUnit, number>> = {
  minutes: 60_000,
  hours: 3_600_000,
};

/** Whole hours read best in hours (2 hours); anything else in minutes (90 minutes). */
export function toAmount(ms: number): { amount: string; unit: DurationUnit } {
  const unit: DurationUnit = ms >= UNIT_MS.hours && ms % UNIT_MS.hours === 0 ? 'hours' : 'minutes';
  const exact = ms / UNIT_MS[unit];
  // Two decimals at most, unless that would change the value saved back.
  const short = Number(exact.toFixed(2));
  const amount = Math.round(short * UNIT_MS[unit]) === ms ? short : exact;
  return { amount: String(amount), unit };
}

export type AmountReading = { ok: true; ms: number } | { ok: false; problem: string };

/** The milliseconds an amount stands for; at least one minute. */
export function fromAmount(text: string, unit: DurationUnit): AmountReading {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, problem: 'must not be empty' };
  const amount = Number(trimmed);
  if (!Number.isFinite(amount)) return { ok: false, problem: 'must be a number' };
  const ms = Math.round(amount * UNIT_MS[unit]);
  if (ms < UNIT_MS.minutes) return { ok: false, problem: 'must be at least 1 minute' };
  return { ok: true, ms };
}
