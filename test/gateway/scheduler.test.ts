import { describe, expect, it } from 'vitest';
import { Scheduler, msUntilMidnight } from '../../src-main/gateway/scheduler';
import { FakeClock } from '../support/fake-clock';

describe('Scheduler', () => {
  it('runs interval jobs on the injected clock', () => {
    const clock = new FakeClock();
    const scheduler = new Scheduler(clock, () => undefined);
    const runs: number[] = [];
    scheduler.add({ name: 'tick', run: () => void runs.push(clock.now()) }, { every: 1000 });
    clock.advance(999);
    expect(runs).toHaveLength(0);
    clock.advance(1);
    expect(runs).toHaveLength(1);
    clock.advance(5000);
    expect(runs).toHaveLength(6);
    scheduler.close();
    clock.advance(5000);
    expect(runs).toHaveLength(6);
    expect(clock.timers).toBe(0);
  });

  it('honours a first delay, reports errors and keeps the schedule', () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const scheduler = new Scheduler(clock, (job, error) => errors.push(`${job}: ${String(error)}`));
    let runs = 0;
    scheduler.add(
      {
        name: 'flaky',
        run: () => {
          runs++;
          throw new Error('boom');
        },
      },
      { every: 1000, firstInMs: 10 },
    );
    clock.advance(10);
    expect(runs).toBe(1);
    clock.advance(2000);
    expect(runs).toBe(3);
    expect(errors[0]).toBe('flaky: Error: boom');
    scheduler.close();
  });

  it('does not overlap an asynchronous job with itself', async () => {
    const clock = new FakeClock();
    const scheduler = new Scheduler(clock, () => undefined);
    let release: () => void = () => undefined;
    let started = 0;
    scheduler.add(
      {
        name: 'slow',
        run: () => {
          started++;
          return new Promise<void>((resolve) => (release = resolve));
        },
      },
      { every: 100 },
    );
    clock.advance(100);
    clock.advance(100);
    clock.advance(100);
    expect(started).toBe(1);
    release();
    await Promise.resolve();
    await Promise.resolve();
    clock.advance(100);
    expect(started).toBe(2);
    scheduler.close();
  });

  it('fires daily jobs at local midnight', () => {
    const start = new Date(2026, 10, 26, 23, 59, 0).getTime();
    const clock = new FakeClock(start);
    expect(msUntilMidnight(start)).toBe(60_000);
    const scheduler = new Scheduler(clock, () => undefined);
    const days: number[] = [];
    scheduler.add(
      { name: 'rollover', run: () => void days.push(new Date(clock.now()).getDate()) },
      {
        dailyAtMidnight: true,
      },
    );
    clock.advance(59_999);
    expect(days).toEqual([]);
    clock.advance(1);
    expect(days).toEqual([27]);
    clock.advance(24 * 3600_000);
    expect(days).toEqual([27, 28]);
    scheduler.close();
  });
});
