/**
 * Fuzzing through real sockets, long run: 100,000 inputs per protocol, four fuzzed links per
 * protocol and a healthy link carrying valid traffic throughout (see support/fuzz-campaign.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ASTM_PROPERTIES } from '../support/astm-fuzz';
import { runFuzzCampaign, type FuzzCampaignResult } from '../support/fuzz-campaign';
import { HL7_PROPERTIES } from '../support/hl7-fuzz';
import { chooseSeed } from '../support/random';
import { writeSoakResult } from '../support/results';

const INPUTS = 100_000;
const seed = chooseSeed();
let result: FuzzCampaignResult;

beforeAll(async () => {
  result = await runFuzzCampaign({
    seed,
    inputsPerProtocol: INPUTS,
    workersPerProtocol: 4,
    replyMs: 10_000,
    trace: true,
  });
  const violations = [
    ...Object.values(HL7_PROPERTIES).map((p) => result.hl7.tally.violationsOf(p).count),
    ...Object.values(ASTM_PROPERTIES).map((p) => result.astm.tally.violationsOf(p).count),
  ];
  const passed =
    result.uncaught.length === 0 &&
    result.healthy.acked === result.healthy.sent &&
    violations.every((count) => count === 0);
  writeSoakResult('fuzz', passed, {
    ...result,
    hl7: { ...result.hl7, tally: result.hl7.tally.toJSON() },
    astm: { ...result.astm, tally: result.astm.tally.toJSON() },
    examples: {
      hl7: Object.fromEntries(
        Object.values(HL7_PROPERTIES).map((p) => [p, result.hl7.tally.violationsOf(p).examples]),
      ),
      astm: Object.fromEntries(
        Object.values(ASTM_PROPERTIES).map((p) => [p, result.astm.tally.violationsOf(p).examples]),
      ),
    },
  });
});

describe(`fuzzing, ${INPUTS} inputs per protocol (seed ${seed})`, () => {
  it('keeps the process up, the healthy link served and memory bounded', () => {
    expect(result.uncaught, `seed ${seed}`).toEqual([]);
    expect(result.hl7.inputs).toBe(INPUTS);
    expect(result.astm.inputs).toBe(INPUTS);
    expect(result.healthy).toMatchObject({ rejected: 0, failed: 0, missing: [] });
    expect(result.memory.after.heapUsedMiB - result.memory.before.heapUsedMiB).toBeLessThan(64);
  });

  it.each(Object.values(HL7_PROPERTIES))('HL7: %s', (property) => {
    const { count, examples } = result.hl7.tally.violationsOf(property);
    expect(count, `seed ${seed}:\n${examples.join('\n')}`).toBe(0);
  });

  it.each(Object.values(ASTM_PROPERTIES))('ASTM: %s', (property) => {
    const { count, examples } = result.astm.tally.violationsOf(property);
    expect(count, `seed ${seed}:\n${examples.join('\n')}`).toBe(0);
  });
});
