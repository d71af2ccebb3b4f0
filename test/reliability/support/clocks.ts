import type { Clock } from '../../../src-main/protocols/clock';
import type { FakeClock } from '../../support/fake-clock';

/**
 * Time running `factor` times faster than the wall clock, for the simulated analyzers only: their
 * E1381 pauses (15 s before retrying a refused message) then last a fraction of a second, while
 * the gateway keeps real time.
 */
export function acceleratedClock(factor: number): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * factor,
    schedule(ms, fn) {
      const handle = setTimeout(fn, Math.max(0, ms / factor));
      handle.unref();
      return () => clearTimeout(handle);
    },
  };
}

/** Moves a fake clock forward by `stepMs` every `everyMs` of real time until stopped. */
export function pumpClock(clock: FakeClock, stepMs: number, everyMs = 5): { stop: () => void } {
  const timer = setInterval(() => clock.advance(stepMs), everyMs);
  return { stop: () => clearInterval(timer) };
}
