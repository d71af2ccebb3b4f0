/**
 * Properties of reading with profiles, over generated messages: a profile never loses a result or
 * a value the generic reading found, and the generic rules written as data (what the detail view
 * uses to say where a value came from) read exactly what the decoders read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUILT_IN_PROFILES,
  GENERIC_RULES,
  type InstrumentProfile,
} from '../../src-shared/profiles';
import { RESULT_FIELDS } from '../../src-shared/result-fields';
import type { Protocol } from '../../src-shared/results';
import { decodeMessages } from '../../src-main/protocols/astm/message';
import { parseHl7 } from '../../src-main/protocols/hl7/message';
import { explainAstm, explainHl7 } from '../../src-main/profiles/read-message';

/** Field text: padding, empty components, the odd escape and date-like digits. */
const leaf = fc.oneof(
  fc.constantFrom('', ' ', 'GLU', 'Ct', ' 12 ', '^', '20250601120000', '2025', 'x&S&y', '5.4'),
  fc.stringMatching(/^[A-Za-z0-9 .\-/]{0,6}$/),
);
const astmField = fc
  .array(fc.array(leaf, { minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 2 })
  .map((repeats) => repeats.map((components) => components.join('^')).join('\\'));
const astmRecord = (type: string, fields: number) =>
  fc
    .array(astmField, { minLength: 0, maxLength: fields })
    .map((values) => [type, ...values].join('|'));

/** H, then groups of P, O and R records in any number, sometimes cut short without L. */
const astmText = fc
  .tuple(
    astmRecord('H|\\^&', 14),
    fc.array(
      fc.tuple(
        fc.option(astmRecord('P', 6)),
        fc.option(astmRecord('O', 26)),
        fc.array(astmRecord('R', 14), { maxLength: 4 }),
      ),
      { maxLength: 3 },
    ),
    fc.boolean(),
  )
  .map(([header, groups, ended]) => {
    const records = [header.replace('H|\\^&|', 'H|\\^&|')];
    for (const [patient, order, results] of groups) {
      if (patient !== null) records.push(patient);
      if (order !== null) records.push(order);
      records.push(...results);
    }
    if (ended) records.push('L|1|N');
    return records.join('\r');
  });

const hl7Value = fc.oneof(
  fc.constantFrom('', 'S1', 'WBC', '5.4', '<^5', '20250601120000', 'P', 'Q', 'mg/L^^UCUM'),
  fc.stringMatching(/^[A-Za-z0-9 .]{0,5}$/),
);
const hl7Field = fc
  .array(fc.array(hl7Value, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 })
  .map((repeats) => repeats.map((components) => components.join('^')).join('~'));
const hl7Segment = (name: string, fields: number) =>
  fc.array(hl7Field, { maxLength: fields }).map((values) => [name, ...values].join('|'));
const hl7Text = fc
  .array(
    fc.oneof(
      hl7Segment('PID', 4),
      hl7Segment('OBR', 8),
      hl7Segment('SPM', 12),
      hl7Segment('OBX', 15),
      fc.constantFrom('OBX|1|SN|CRP||<^5|mg/L', 'OBX|1|TX|NOTE||one~two'),
    ),
    { maxLength: 8 },
  )
  .map((segments) =>
    ['MSH|^~\\&|A|B|C|D|20250601120000||ORU^R01^ORU_R01|M1|P|2.5.1', ...segments].join('\r'),
  );

function asProfile(protocol: Protocol): InstrumentProfile {
  return {
    name: 'generic',
    title: 'the generic rules',
    protocol,
    summary: '',
    results: GENERIC_RULES[protocol],
  };
}

const hl7Profile: InstrumentProfile = {
  name: 'hl7-test',
  title: 'Test analyzer',
  protocol: 'hl7',
  summary: '',
  results: {
    sampleId: 'OBR-2.2',
    testCode: { parts: ['OBX-3.1', 'OBX-4'], separator: '-' },
    value: ['OBX-5.2', 'OBX-5'],
    observedAt: 'MSH-7',
  },
};

const astmProfiles = BUILT_IN_PROFILES.filter((p) => p.protocol === 'astm');

describe('reading with a profile', () => {
  it('never loses a result or a value the generic reading found (ASTM, every built-in profile)', () => {
    fc.assert(
      fc.property(astmText, fc.constantFrom(...astmProfiles), (text, profile) => {
        const generic = explainAstm(decodeMessages(text), null).results;
        const profiled = explainAstm(decodeMessages(text), profile).results;
        expect(profiled).toHaveLength(generic.length);
        generic.forEach((result, i) => {
          for (const field of RESULT_FIELDS) {
            if (result[field] !== null) expect(profiled[i]![field], field).not.toBeNull();
          }
        });
      }),
      { numRuns: 400 },
    );
  });

  it('never loses a result or a value the generic reading found (HL7)', () => {
    fc.assert(
      fc.property(hl7Text, (text) => {
        const generic = explainHl7(parseHl7(text), null).results;
        const profiled = explainHl7(parseHl7(text), hl7Profile).results;
        expect(profiled).toHaveLength(generic.length);
        generic.forEach((result, i) => {
          for (const field of RESULT_FIELDS) {
            if (result[field] !== null) expect(profiled[i]![field], field).not.toBeNull();
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it.each(['astm', 'hl7'] as const)(
    'the generic rules as data read what the %s decoder reads, and place every value',
    (protocol) => {
      const explain = (text: string, profile: InstrumentProfile | null) =>
        protocol === 'astm'
          ? explainAstm(decodeMessages(text), profile)
          : explainHl7(parseHl7(text), profile);
      fc.assert(
        fc.property(protocol === 'astm' ? astmText : hl7Text, (text) => {
          const decoded = explain(text, null);
          const asData = explain(text, asProfile(protocol));
          expect(asData.results).toEqual(decoded.results);
          decoded.results.forEach((result, i) => {
            const placed = new Set(decoded.sources[i]!.map((s) => s.field));
            for (const field of RESULT_FIELDS) {
              expect(placed.has(field), `${field} of result ${i + 1}`).toBe(result[field] !== null);
            }
          });
        }),
        { numRuns: 400 },
      );
    },
  );
});
