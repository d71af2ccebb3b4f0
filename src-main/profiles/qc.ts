/**
 * Quality-control and calibration results: marked by the instrument's rules (sample ID patterns)
 * or by the message itself (ASTM O-12 or H-12 `Q`, HL7 SPM-11 `Q` or `C`) when the rules trust
 * those marks.
 */
import type { QcRules } from '../../src-shared/config';
import type { Result } from '../../src-shared/results';
import type { ResultPlaces } from './places';

const compiled = new WeakMap<readonly string[], RegExp[]>();

/** `QC*` → /^QC.*$/i: `*` any characters, `?` one, everything else literally. */
export function samplePatternToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern.trim()) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/u, '\\$&');
  }
  return new RegExp(`^${source}$`, 'iu');
}

function patternsOf(rules: QcRules): RegExp[] {
  let out = compiled.get(rules.sampleIds);
  if (!out) {
    out = rules.sampleIds.map(samplePatternToRegExp);
    compiled.set(rules.sampleIds, out);
  }
  return out;
}

/** Why the result is QC in plain words (`sample ID matches "QC*"`), or null for a patient result. */
export function qcReason(result: Result, places: ResultPlaces, rules: QcRules): string | null {
  if (rules.messageMarks) {
    const mark = places.qcMark();
    if (mark !== null) return `${mark} marks the sample as a control`;
  }
  const sampleId = result.sampleId;
  if (sampleId !== null) {
    const patterns = patternsOf(rules);
    for (let i = 0; i < patterns.length; i++) {
      if (patterns[i]!.test(sampleId)) return `the sample ID matches "${rules.sampleIds[i]}"`;
    }
  }
  return null;
}
