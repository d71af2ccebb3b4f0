import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from '../../src-main/links';

const noJitter = () => 0.5;
const policy: BackoffPolicy = { initialDelayMs: 1_000, maxDelayMs: 60_000, factor: 2, jitter: 0.2 };

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    const delays = Array.from({ length: 9 }, (_, attempt) =>
      backoffDelay(attempt, policy, noJitter),
    );
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('defaults to 1 s doubling to 60 s with ±20 % jitter', () => {
    expect(DEFAULT_BACKOFF).toEqual(policy);
  });

  it('moves each delay by at most the jitter fraction', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(800);
    expect(backoffDelay(0, policy, () => 0.999_999)).toBe(1_200);
    expect(backoffDelay(2, policy, () => 0.25)).toBe(3_600);
  });

  it('never exceeds the cap, even with jitter', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      expect(backoffDelay(attempt, policy, () => 0.999_999)).toBeLessThanOrEqual(60_000);
    }
    expect(backoffDelay(10, policy, () => 0)).toBe(48_000);
  });

  it('survives huge attempt numbers and odd inputs', () => {
    expect(backoffDelay(10_000, policy, noJitter)).toBe(60_000);
    expect(backoffDelay(-3, policy, noJitter)).toBe(1_000);
    expect(backoffDelay(Number.NaN, policy, noJitter)).toBe(1_000);
    expect(backoffDelay(1, policy, () => Number.NaN)).toBe(2_000);
    expect(backoffDelay(1, policy, () => 7)).toBe(2_400);
  });

  it('honours other factors and a cap below the initial delay', () => {
    const triple = { initialDelayMs: 100, maxDelayMs: 5_000, factor: 3, jitter: 0 };
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, triple, Math.random))).toEqual([
      100, 300, 900, 2_700, 5_000,
    ]);
    const flat = { initialDelayMs: 500, maxDelayMs: 100, factor: 2, jitter: 0 };
    expect(backoffDelay(3, flat, noJitter)).toBe(500);
  });

  it('is pure: the same inputs give the same delay', () => {
    const random = () => 0.42;
    expect(backoffDelay(3, policy, random)).toBe(backoffDelay(3, policy, random));
  });
});
