import type { Clock } from './protocols/clock';

/** The real clock, for links and the gateway. Timers are unref'd so they never keep Node alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};
