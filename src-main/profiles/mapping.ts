/**
 * Test-code mapping: stored results keep the analyzer's codes; what goes to a LIS (forwarding,
 * order download) is read through the instrument's `testCodes`, and orders come back through the
 * same table read backwards.
 */
import type { InstrumentConfig } from '../../src-shared/config';
import type { StoredResult } from '../../src-shared/results';

export type TestCodeSettings = Pick<InstrumentConfig, 'testCodes'>;

/** A stored result as the LIS receives it. */
export interface MappedResult extends StoredResult {
  /** The LIS code (the analyzer's own when the table does not name it). */
  testCode: string | null;
  /** The units to send (renamed where the table says). */
  units: string | null;
  /** What the analyzer sent. */
  instrumentTestCode: string | null;
  instrumentUnits: string | null;
  /** The test's name from the table, if any. */
  testName: string | null;
  /** True when the table names the code. */
  mapped: boolean;
  /** The table says this code is never forwarded. */
  excluded: boolean;
}

export function mapResult(result: StoredResult, settings: TestCodeSettings): MappedResult {
  const code = result.testCode;
  const entry = code === null ? undefined : settings.testCodes[code];
  return {
    ...result,
    testCode: entry?.code ?? code,
    units: entry?.units ?? result.units,
    instrumentTestCode: code,
    instrumentUnits: result.units,
    testName: entry?.name ?? null,
    mapped: entry !== undefined,
    excluded: entry?.exclude ?? false,
  };
}

/** The mapped results of a stored message, in its order. */
export function mapResults(
  results: readonly StoredResult[],
  settings: TestCodeSettings,
): MappedResult[] {
  return results.map((result) => mapResult(result, settings));
}

/**
 * LIS test codes (as ordered) → the instrument's codes, for order download: `testCodes` read
 * backwards; a code the table does not name passes unchanged, and excluded codes are never the
 * answer (nothing would come back under them).
 */
export function instrumentTestCodes(
  lisCodes: readonly string[],
  settings: TestCodeSettings,
): string[] {
  const backwards = new Map<string, string>();
  for (const [instrumentCode, entry] of Object.entries(settings.testCodes)) {
    if (!entry.exclude) backwards.set(entry.code ?? instrumentCode, instrumentCode);
  }
  return lisCodes.map((code) => backwards.get(code) ?? code);
}
