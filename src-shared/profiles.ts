/**
 * Instrument profiles: where an analyzer puts what a normalized result needs, when it departs
 * from the generic reading. A profile is data; src-main/profiles reads messages with it, the
 * configuration checks names against it and the instrument editor shows it. Adding an analyzer
 * is one entry in BUILT_IN_PROFILES (and a fixture of its messages in test/fixtures/profiles).
 */
import type { ResultField } from './result-fields';
import type { Protocol } from './results';

/**
 * A place in the records (ASTM: H, P, O, R, Q) or segments (HL7: MSH, PID, OBR, SPM, OBX) a
 * result belongs to, written as the Parsed tab names it:
 * - `R-4`: the whole field, trimmed (for HL7 OBX-5 and OBX-8, read by their data type);
 * - `R-4.2`: component 2 of the first repeat;
 * - `R-3.4+`: the first non-empty component from the 4th on, in the first repeat;
 * - `O-3.*`: the first non-empty component of any repeat.
 */
export type FieldLocation = string;

/**
 * Where one result field is read: one location; the first of several locations that holds a
 * value; or several locations joined into one value (a test code composed of components).
 */
export type FieldRule =
  | FieldLocation
  | readonly FieldLocation[]
  | { readonly parts: readonly FieldLocation[]; readonly separator: string };

export type ResultRules = Partial<Record<ResultField, FieldRule>>;

export interface InstrumentProfile {
  /** What the configuration's `profile` names, e.g. `genexpert`. */
  name: string;
  /** The analyzers it is for, e.g. `Cepheid GeneXpert`. */
  title: string;
  protocol: Protocol;
  /** Why the generic reading is not enough for these analyzers, in plain words. */
  summary: string;
  /** Only the fields read differently; the others keep the generic reading. */
  results: ResultRules;
  /** Where a host query (ASTM Q record) carries the sample ID, when not the generic place. */
  querySampleId?: FieldLocation;
}

/** The generic reading (CONTRACT.md, `decode`) in the same terms, for comparison and provenance. */
export const GENERIC_RULES: Readonly<Record<Protocol, Required<ResultRules>>> = {
  astm: {
    sampleId: ['O-3.*', 'O-4.*'],
    patientId: ['P-3.*', 'P-4.*', 'P-5.*'],
    testCode: ['R-3.4+', 'R-3.1+'],
    value: 'R-4',
    units: 'R-5.1',
    flags: 'R-7',
    status: 'R-9',
    observedAt: 'R-13.1',
  },
  hl7: {
    sampleId: ['SPM-2.1', 'SPM-2.2', 'OBR-3.1', 'OBR-2.1'],
    patientId: 'PID-3.1',
    testCode: 'OBX-3.1',
    value: 'OBX-5',
    units: 'OBX-6.1',
    flags: 'OBX-8',
    status: 'OBX-11.1',
    observedAt: ['OBX-14.1', 'OBR-7.1'],
  },
};

/** The generic place of a host query's sample IDs: Q-3 component 2, else 3, of each repeat. */
export const GENERIC_QUERY_SAMPLE_ID: readonly FieldLocation[] = ['Q-3.2', 'Q-3.3'];

export const BUILT_IN_PROFILES: readonly InstrumentProfile[] = [
  {
    name: 'genexpert',
    title: 'Cepheid GeneXpert',
    protocol: 'astm',
    summary:
      'Every result has the manufacturer code "Xpert"; the analyte (R-3 component 7) and the ' +
      'result name such as Ct or EndPt (component 8) tell them apart, and quantitative values ' +
      'are in the second component of R-4.',
    results: {
      testCode: { parts: ['R-3.4', 'R-3.7', 'R-3.8'], separator: '/' },
      value: ['R-4.2', 'R-4.1'],
    },
  },
  {
    name: 'hitachi-7600',
    title: 'Hitachi 7600',
    protocol: 'astm',
    summary:
      'O-3 starts with a sequence number and carries the padded sample number in its second ' +
      'component; the result time is when the order was reported (O-23), not R-13; host ' +
      'queries carry the sample number in Q-3 component 3.',
    results: {
      sampleId: 'O-3.2',
      observedAt: ['R-13.1', 'O-23.1'],
    },
    querySampleId: 'Q-3.3',
  },
  {
    name: 'cobas-c311',
    title: 'Roche cobas c311',
    protocol: 'astm',
    summary:
      'R-13 is left empty; the time the results were reported is in the order record (O-23).',
    results: {
      observedAt: ['R-13.1', 'O-23.1'],
    },
  },
  {
    name: 'dca-vantage',
    title: 'Siemens DCA Vantage',
    protocol: 'astm',
    summary: 'The result time is in R-12 (date and time the test started); R-13 is left empty.',
    results: {
      observedAt: ['R-13.1', 'R-12.1'],
    },
  },
  {
    name: 'yumizen-h500',
    title: 'Horiba Yumizen H500',
    protocol: 'astm',
    summary: 'The result time is in R-12 (date and time the test started); R-13 is left empty.',
    results: {
      observedAt: ['R-13.1', 'R-12.1'],
    },
  },
];

const byName = new Map(BUILT_IN_PROFILES.map((profile) => [profile.name, profile]));

export function profileNamed(name: string): InstrumentProfile | null {
  return byName.get(name) ?? null;
}

export const PROFILE_NAMES: readonly string[] = BUILT_IN_PROFILES.map((p) => p.name);

/** `R-13, then R-12`, `R-3.4 / R-3.7 / R-3.8`: a rule as the editor and the README show it. */
export function describeRule(rule: FieldRule): string {
  if (typeof rule === 'string') return rule;
  if (isLocationList(rule)) return rule.join(', then ');
  return rule.parts.join(` ${rule.separator} `);
}

export function isLocationList(rule: FieldRule): rule is readonly FieldLocation[] {
  return Array.isArray(rule);
}
