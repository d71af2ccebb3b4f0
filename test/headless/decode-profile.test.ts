/** `decode --profile NAME`: the contract's way to read a capture as an instrument would. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type * as Profiles from '../../src-shared/profiles';
import type { InstrumentProfile } from '../../src-shared/profiles';
import { PROFILE_FIXTURES, row } from '../profiles/fixtures';
import { cli } from '../support/cli';

/** One HL7 profile beside the built-in ones (all ASTM), to read HL7 captures with. */
const HL7_TEST_PROFILE: InstrumentProfile = {
  name: 'hl7-units-text',
  title: 'Test analyzer',
  protocol: 'hl7',
  summary: 'units as text in OBX-6.2',
  results: { units: ['OBX-6.2', 'OBX-6.1'] },
};
vi.mock('../../src-shared/profiles', async (importOriginal) => {
  const actual = await importOriginal<typeof Profiles>();
  return {
    ...actual,
    profileNamed: (name: string) =>
      name === HL7_TEST_PROFILE.name ? HL7_TEST_PROFILE : actual.profileNamed(name),
  };
});

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/profiles');

interface Printed {
  profile?: string;
  results: Parameters<typeof row>[0][];
  provenance?: { field: string; segment: number; position: string }[][];
  errors: { code: string; message: string }[];
}

describe('decode --profile', () => {
  it.each(PROFILE_FIXTURES.filter((f) => f.generic.length > 0).map((f) => [f.file, f] as const))(
    '%s reads as its profile says, and says where each value came from',
    async (_file, fixture) => {
      const file = path.join(fixtures, fixture.file);
      const plain = await cli(['decode', 'astm', file]);
      const profiled = await cli(['decode', 'astm', file, '--profile', fixture.profile]);
      expect([plain.code, profiled.code]).toEqual([0, 0]);
      const before = JSON.parse(plain.lines[0]!) as Printed;
      const after = JSON.parse(profiled.lines[0]!) as Printed;
      expect(before.results.map(row)).toEqual(fixture.generic);
      expect(before.profile).toBeUndefined();
      expect(after.results.map(row)).toEqual(fixture.profiled);
      expect(after.profile).toBe(fixture.profile);
      expect(after.errors).toEqual([]);
      expect(after.provenance).toHaveLength(fixture.profiled.length);
    },
  );

  it('names the fields a value was read from: the GeneXpert Ct value is R-4.2', async () => {
    const file = path.join(fixtures, 'genexpert.astm');
    const { lines } = await cli(['decode', 'astm', file, '--profile', 'genexpert']);
    const printed = JSON.parse(lines[0]!) as Printed;
    expect(printed.results[2]).toMatchObject({ testCode: 'Xpert/rpoB1/Ct', value: '21.3' });
    expect(printed.provenance![2]).toEqual([
      { field: 'sampleId', segment: 2, position: 'O-3' },
      { field: 'testCode', segment: 6, position: 'R-3.4' },
      { field: 'testCode', segment: 6, position: 'R-3.7' },
      { field: 'testCode', segment: 6, position: 'R-3.8' },
      { field: 'value', segment: 6, position: 'R-4.2' },
    ]);
  });

  it('keeps the generic reading of a capture the profile does not fit, with a note (exit 0)', async () => {
    const file = path.join(fixtures, 'dca-vantage.astm');
    const result = await cli(['decode', 'astm', file, '--profile', 'hitachi-7600']);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.lines[0]!) as Printed;
    expect(printed.results.map(row)).toEqual(PROFILE_FIXTURES[4]!.generic);
    expect(printed.errors.map((e) => e.code)).toEqual(['PROFILE_MISMATCH']);
    expect(result.err).toContain('message 1: PROFILE_MISMATCH: profile "hitachi-7600"');
  });

  it('refuses an unknown profile or one of the other protocol (exit 2)', async () => {
    const unknown = await cli(['decode', 'astm', '--profile', 'c999'], 'H|\\^&\rL|1|N\r');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('decode: unknown profile "c999"; the built-in profiles are');
    const other = await cli(['decode', 'hl7', '--profile', 'genexpert'], 'MSH|^~\\&|A\r');
    expect(other.code).toBe(2);
    expect(other.err).toContain('is a profile for ASTM messages, not HL7');
    expect(other.out).toBe('');
  });

  it('reads HL7 with an HL7 profile, segment numbers as in the message', async () => {
    const hl7 = [
      'MSH#^~\\&#AN#LAB#LIS#HOSP#20250601120000##ORU^R01#M1#P#2.5.1',
      'PID###PAT9',
      'OBR#1##S-900',
      'OBX#1#NM#WBC##7.2#10*3/uL^thousand per microlitre^UCUM####F',
      'OBX#2#NM#RBC##4.1#10*6/uL####F',
    ].join('\r');
    const result = await cli(['decode', 'hl7', '--profile', 'hl7-units-text'], hl7);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.lines[0]!) as Printed;
    expect(printed.results.map((r) => [r.sampleId, r.testCode, r.units])).toEqual([
      ['S-900', 'WBC', 'thousand per microlitre'],
      ['S-900', 'RBC', '10*6/uL'],
    ]);
    expect(printed.provenance![0]!.find((s) => s.field === 'units')).toEqual({
      field: 'units',
      segment: 3,
      position: 'OBX-6.2',
    });
  });
});
