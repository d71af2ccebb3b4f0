import type { Cancel, Clock } from '../protocols/clock';

export interface Job {
  name: string;
  /** Runs the job; a thrown error is reported and the job keeps its schedule. */
  run(): void | Promise<void>;
}

export type Schedule =
  /** Every `ms` milliseconds, the first run `ms` after start (or after `firstInMs`). */
  | { every: number; firstInMs?: number }
  /** Every day at local midnight. */
  | { dailyAtMidnight: true };

/** Milliseconds from `now` to the next local midnight. */
export function msUntilMidnight(now: number): number {
  const next = new Date(now);
  next.setHours(24, 0, 0, 0);
  return next.getTime() - now;
}

/**
 * Runs the gateway's periodic jobs (retention purge, silence alarms, counter roll-over) on the
 * injected clock, so tests move time instead of waiting. A job never overlaps itself: a run that
 * is still going when the next falls due makes that next run skip.
 */
export class Scheduler {
  private readonly cancels = new Set<Cancel>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly onError: (job: string, error: unknown) => void,
  ) {}

  add(job: Job, schedule: Schedule): void {
    let running = false;
    const fire = (): void => {
      if (this.closed) return;
      arm();
      if (running) return;
      running = true;
      let result: void | Promise<void>;
      try {
        result = job.run();
      } catch (error) {
        running = false;
        this.onError(job.name, error);
        return;
      }
      if (result instanceof Promise) {
        result.then(
          () => (running = false),
          (error: unknown) => {
            running = false;
            this.onError(job.name, error);
          },
        );
      } else {
        running = false;
      }
    };
    let cancel: Cancel | null = null;
    let first = true;
    const arm = (): void => {
      if (cancel) this.cancels.delete(cancel);
      let delay: number;
      if ('every' in schedule) {
        delay = first && schedule.firstInMs !== undefined ? schedule.firstInMs : schedule.every;
      } else {
        delay = msUntilMidnight(this.clock.now());
      }
      first = false;
      const c = this.clock.schedule(delay, fire);
      cancel = c;
      this.cancels.add(c);
    };
    arm();
  }

  close(): void {
    this.closed = true;
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
  }
}
