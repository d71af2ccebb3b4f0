/** How long to wait between failed attempts: exponential, capped, with jitter. */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** Fraction of each delay added or removed at random, so many links do not retry together. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  factor: 2,
  jitter: 0.2,
};

/**
 * The delay before retry number `attempt` (0 for the first retry after a failure):
 * `initialDelayMs × factor^attempt`, capped at `maxDelayMs`, then moved by up to ±jitter of itself
 * and capped again so the cap is a promise. `random` returns a number in [0, 1); 0.5 means no jitter.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const initial = Math.max(0, policy.initialDelayMs);
  const cap = Math.max(initial, policy.maxDelayMs);
  const steps = Math.max(0, Math.floor(Number.isFinite(attempt) ? attempt : 0));
  const base = Math.min(cap, initial * Math.pow(Math.max(1, policy.factor), steps));
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const spread = jitter * (2 * clampUnit(random()) - 1);
  return Math.round(Math.min(cap, Math.max(0, base * (1 + spread))));
}

function clampUnit(value: number): number {
  if (!Number.isFinite(value)) return 0.5;
  return Math.min(1, Math.max(0, value));
}
