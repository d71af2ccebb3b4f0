/**
 * Test codes between the LIS and one instrument. The configuration maps instrument code → LIS
 * code (`testCodes`); orders travel the other way, so the map is read backwards. Codes not in
 * the map are the same on both sides.
 */
import type { InstrumentConfig } from '../../src-shared/config';

type TestCodes = InstrumentConfig['testCodes'];

/** The LIS code a result's instrument code stands for. */
export function lisCodeFor(instrumentCode: string, testCodes: TestCodes): string {
  return testCodes[instrumentCode]?.code ?? instrumentCode;
}

/** Instrument code → LIS code pairs of the map (a mapping without a code keeps its own). */
function pairs(testCodes: TestCodes): [string, string][] {
  return Object.entries(testCodes).map(([instrument, m]) => [instrument, m.code ?? instrument]);
}

export interface InstrumentTests {
  /** Instrument codes, in the order the LIS codes were given. */
  codes: string[];
  /** LIS codes another instrument's map claims and this one's does not. */
  notDone: string[];
}

/**
 * LIS codes → this instrument's codes. A LIS code this instrument's map names is sent as the
 * instrument code; one it does not name is sent unchanged, unless `elsewhere` says another
 * instrument's map claims it, in which case this instrument does not do that test.
 */
export function instrumentCodesFor(
  lisCodes: readonly string[],
  testCodes: TestCodes,
  elsewhere: ReadonlySet<string> = new Set(),
): InstrumentTests {
  const backwards = new Map<string, string>();
  for (const [instrument, lis] of pairs(testCodes)) {
    if (!backwards.has(lis)) backwards.set(lis, instrument);
  }
  const codes: string[] = [];
  const notDone: string[] = [];
  for (const lis of lisCodes) {
    const mapped = backwards.get(lis);
    if (mapped !== undefined) codes.push(mapped);
    else if (elsewhere.has(lis) || lisCodeFor(lis, testCodes) !== lis) {
      notDone.push(lis);
    } else codes.push(lis);
  }
  return { codes, notDone };
}

/** LIS codes some instrument's map names: a test the LIS orders by that code runs there. */
export function mappedLisCodes(instruments: readonly Pick<InstrumentConfig, 'testCodes'>[]) {
  const out = new Set<string>();
  for (const i of instruments) for (const [, lis] of pairs(i.testCodes)) out.add(lis);
  return out;
}
