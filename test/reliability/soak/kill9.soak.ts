/**
 * kill -9 under load, 20 times at random moments, across both protocols and both link modes,
 * each time restarting `serve` on the same database (see support/kill9.ts).
 */
import { expect, it } from 'vitest';
import { runKill9Cycles } from '../support/kill9';
import { chooseSeed } from '../support/random';
import { writeSoakResult } from '../support/results';

it('20 kills at random moments: no acknowledged message missing, none stored twice', async () => {
  const seed = chooseSeed();
  const result = await runKill9Cycles({
    cycles: 20,
    seed,
    killWindowMs: [200, 2_500],
    hl7RunMessages: 60,
    astmRunMessages: 12,
    log: (line) => console.log(line),
  });
  const passed = result.missingIds.length === 0 && result.duplicateIds.length === 0;
  writeSoakResult('kill9', passed, result);
  expect(result.cycles).toHaveLength(21);
  expect(result.missingIds, `seed ${seed}`).toEqual([]);
  expect(result.duplicateIds, `seed ${seed}`).toEqual([]);
  expect(result.totals.acked).toBeGreaterThan(1_000);
});
