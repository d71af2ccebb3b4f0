/**
 * Time as protocol sessions see it. Sessions never call setTimeout or Date themselves: the link
 * layer passes the system clock, tests pass a fake clock they advance by hand.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; the returned function cancels it (idempotent). */
  schedule(ms: number, fn: () => void): Cancel;
}

export type Cancel = () => void;

/** A single named timer slot: arming it again replaces the previous deadline. */
export class Timer {
  private cancel: Cancel | null = null;

  constructor(private readonly clock: Clock) {}

  arm(ms: number, fn: () => void): void {
    this.disarm();
    const cancel = this.clock.schedule(ms, () => {
      if (this.cancel === cancel) this.cancel = null;
      fn();
    });
    this.cancel = cancel;
  }

  disarm(): void {
    const cancel = this.cancel;
    this.cancel = null;
    cancel?.();
  }

  get armed(): boolean {
    return this.cancel !== null;
  }
}
