/** Reconnect storm, long run: 200 client links whose analyzers flap (see support/storm.ts). */
import { expect, it } from 'vitest';
import { chooseSeed } from '../support/random';
import { writeSoakResult } from '../support/results';
import { runReconnectStorm } from '../support/storm';

it('200 flapping client links: every message stored once, no timer or socket left', async () => {
  const seed = chooseSeed();
  const result = await runReconnectStorm({
    links: 200,
    seed,
    messagesPerLink: 10,
    minConnections: 25,
    timeoutMs: 180_000,
  });
  const passed =
    result.uncaught.length === 0 &&
    result.unfinished.length === 0 &&
    result.missing.length === 0 &&
    result.duplicates.length === 0 &&
    result.timersLeft === 0 &&
    result.resourceGrowth.length === 0;
  writeSoakResult('storm', passed, result);
  expect(result.uncaught, `seed ${seed}`).toEqual([]);
  expect(result.unfinished, `seed ${seed}`).toEqual([]);
  expect(result.missing, `seed ${seed}`).toEqual([]);
  expect(result.duplicates, `seed ${seed}`).toEqual([]);
  expect(result.timersLeft, `seed ${seed}`).toBe(0);
  expect(result.resourceGrowth, `after: ${result.resourcesAfter}`).toEqual([]);
});
