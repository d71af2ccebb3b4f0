import { describe, expect, it } from 'vitest';
import { instrumentConfigSchema, parseGatewayConfig } from '../../src-shared/config';
import { BUILT_IN_PROFILES, GENERIC_RULES, describeRule } from '../../src-shared/profiles';
import { compileRule } from '../../src-main/profiles/locations';

const base = { id: 'gx1', protocol: 'astm', mode: 'server', port: 15001 } as const;

function problems(instrument: object) {
  const parsed = parseGatewayConfig({ instruments: [{ ...base, ...instrument }] });
  return parsed.ok ? [] : parsed.problems;
}

describe('profile, testCodes and qc in the configuration', () => {
  it('accepts the contract’s simple test-code form and the richer one, and reads both alike', () => {
    const config = instrumentConfigSchema.parse({
      ...base,
      profile: 'genexpert',
      testCodes: {
        GLU: 'GLUC',
        CREA: { code: 'CREAT', name: 'Creatinine', units: 'µmol/L' },
        'QC-CHK': { exclude: true },
      },
    });
    expect(config.profile).toBe('genexpert');
    expect(config.testCodes).toEqual({
      GLU: { code: 'GLUC', exclude: false },
      CREA: { code: 'CREAT', name: 'Creatinine', units: 'µmol/L', exclude: false },
      'QC-CHK': { exclude: true },
    });
    expect(config.qc).toEqual({ sampleIds: [], messageMarks: true, forwardTo: [] });
  });

  it('refuses an unknown profile, naming the field and the profiles there are', () => {
    expect(problems({ profile: 'cobas-c999' })).toEqual([
      {
        field: 'instruments[0].profile',
        message: `unknown profile "cobas-c999"; the built-in profiles are ${BUILT_IN_PROFILES.map((p) => p.name).join(', ')}`,
      },
    ]);
  });

  it('refuses a profile of the other protocol', () => {
    expect(problems({ protocol: 'hl7', profile: 'dca-vantage' })).toEqual([
      {
        field: 'instruments[0].profile',
        message:
          '"dca-vantage" (Siemens DCA Vantage) is a profile for ASTM instruments, and this one speaks HL7',
      },
    ]);
  });

  it('names empty and doubled test codes in plain words', () => {
    expect(problems({ testCodes: { GLU: '' } })).toEqual([
      { field: 'instruments[0].testCodes.GLU.code', message: 'must not be empty' },
    ]);
    expect(problems({ testCodes: { ' GLU': 'X' } })).toEqual([
      {
        field: 'instruments[0].testCodes. GLU',
        message: 'the key must not be empty or start or end with a space',
      },
    ]);
    expect(problems({ testCodes: { GLU: 'GLUC', GLU2: { code: 'GLUC' } } })).toEqual([
      {
        field: 'instruments[0].testCodes.GLU2',
        message:
          'sends the LIS code "GLUC", which "GLU" already sends; each LIS code may come from one instrument code',
      },
    ]);
    // An excluded code sends nothing, so it may share a code.
    expect(problems({ testCodes: { GLU: 'GLUC', GLU2: { code: 'GLUC', exclude: true } } })).toEqual(
      [],
    );
    expect(problems({ testCodes: { GLU: 5 } })).toEqual([
      {
        field: 'instruments[0].testCodes.GLU',
        message: 'must be a LIS test code, or an object with "code", "name", "units" or "exclude"',
      },
    ]);
    expect(problems({ testCodes: { GLU: { lis: 'X' } } })).toEqual([
      { field: 'instruments[0].testCodes.GLU', message: 'unknown key "lis"' },
    ]);
  });

  it('checks QC rules: patterns, marks, destinations', () => {
    expect(problems({ qc: { sampleIds: ['QC*', ' '] } })).toEqual([
      { field: 'instruments[0].qc.sampleIds[1]', message: 'must not be empty' },
    ]);
    expect(problems({ qc: { forwardTo: ['qc lis'] } })[0]).toMatchObject({
      field: 'instruments[0].qc.forwardTo[0]',
    });
    expect(problems({ qc: { marks: true } })).toEqual([
      { field: 'instruments[0].qc', message: 'unknown key "marks"' },
    ]);
  });
});

describe('the built-in profiles', () => {
  it('are well formed: unique names, rules whose every location can be followed', () => {
    const names = BUILT_IN_PROFILES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const profile of BUILT_IN_PROFILES) {
      expect(profile.name).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      expect(Object.keys(profile.results).length, profile.name).toBeGreaterThan(0);
      for (const rule of Object.values(profile.results))
        expect(() => compileRule(rule)).not.toThrow();
      if (profile.querySampleId) expect(() => compileRule(profile.querySampleId!)).not.toThrow();
    }
    for (const rules of Object.values(GENERIC_RULES)) {
      for (const rule of Object.values(rules)) expect(() => compileRule(rule)).not.toThrow();
    }
  });

  it('are shown the way a technician reads them', () => {
    expect(describeRule('R-12.1')).toBe('R-12.1');
    expect(describeRule(['R-13.1', 'R-12.1'])).toBe('R-13.1, then R-12.1');
    expect(describeRule({ parts: ['R-3.4', 'R-3.7'], separator: '/' })).toBe('R-3.4 / R-3.7');
    expect(() => compileRule('R4')).toThrow('"R4" is not a field location');
  });
});
