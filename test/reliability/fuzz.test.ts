/**
 * Fuzzing through real sockets, fast tier: 2,000 bent or random inputs per protocol into a running
 * gateway while a third link carries valid traffic. `npm run test:soak` runs the same campaign
 * with 100,000 inputs per protocol. A failure prints the seed; RELIABILITY_SEED=<seed> replays it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ASTM_PROPERTIES } from './support/astm-fuzz';
import { runFuzzCampaign, type FuzzCampaignResult } from './support/fuzz-campaign';
import { HL7_PROPERTIES } from './support/hl7-fuzz';
import { chooseSeed } from './support/random';

const seed = chooseSeed();
let result: FuzzCampaignResult;

beforeAll(async () => {
  result = await runFuzzCampaign({
    seed,
    inputsPerProtocol: 2_000,
    workersPerProtocol: 1,
    replyMs: 5_000,
    trace: true,
  });
  const { hl7, astm, healthy, memory } = result;
  console.log(
    `fuzz seed ${seed}: HL7 ${hl7.inputs} inputs in ${hl7.durationMs} ms, ASTM ${astm.inputs} inputs ` +
      `(${astm.sessions} sessions) in ${astm.durationMs} ms, healthy link ${healthy.acked}/${healthy.sent} ` +
      `acknowledged, heap ${memory.before.heapUsedMiB} → ${memory.after.heapUsedMiB} MiB`,
  );
}, 120_000);

describe(`fuzzing through real sockets (seed ${seed})`, () => {
  it('keeps the process up: no uncaught exception or unhandled rejection', () => {
    expect(result.uncaught, `seed ${seed}`).toEqual([]);
    expect(result.hl7.inputs).toBe(2_000);
    expect(result.astm.inputs).toBe(2_000);
  });

  it('keeps the healthy link working: every message acknowledged and stored', () => {
    const { healthy } = result;
    expect(healthy.sent, `seed ${seed}`).toBeGreaterThan(0);
    expect(healthy, `seed ${seed}`).toMatchObject({
      rejected: 0,
      failed: 0,
      missing: [],
      errors: [],
    });
    expect(healthy.acked).toBe(healthy.sent);
  });

  it('keeps memory bounded', () => {
    const { before, after } = result.memory;
    expect(after.heapUsedMiB - before.heapUsedMiB, `seed ${seed}`).toBeLessThan(48);
    expect(after.arrayBuffersMiB - before.arrayBuffersMiB, `seed ${seed}`).toBeLessThan(48);
  });

  describe('HL7 over MLLP', () => {
    it.each(Object.values(HL7_PROPERTIES))('%s', (property) => {
      const { count, examples } = result.hl7.tally.violationsOf(property);
      expect(count, `seed ${seed}:\n${examples.join('\n')}`).toBe(0);
    });
  });

  describe('ASTM E1381', () => {
    it.each(Object.values(ASTM_PROPERTIES))('%s', (property) => {
      const { count, examples } = result.astm.tally.violationsOf(property);
      expect(count, `seed ${seed}:\n${examples.join('\n')}`).toBe(0);
    });
  });
});
