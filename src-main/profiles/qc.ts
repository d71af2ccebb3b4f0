/**
 * Quality-control and calibration results are marked by the instrument's sample ID patterns, or
 * by the message itself (ASTM O-12 or H-12 `Q`, HL7 SPM-11 `Q` or `C`, see ResultPlaces.qcMark)
 * when the rules trust those marks.
 */
import type { QcRules } from '../../src-shared/config';

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

/** The first of the rules' sample ID patterns the ID matches, or null. */
export function matchingSamplePattern(sampleId: string, rules: QcRules): string | null {
  const patterns = patternsOf(rules);
  for (let i = 0; i < patterns.length; i++) {
    if (patterns[i]!.test(sampleId)) return rules.sampleIds[i]!;
  }
  return null;
}
