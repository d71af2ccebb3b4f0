/**
 * Where each normalized value was read, turned around for the Parsed tab: per record or segment,
 * the positions that gave values, labelled with the field and the results they went to.
 */
import type { ResultView } from '../../../src-shared/contract';
import { RESULT_FIELD_LABELS, type ResultField } from '../../../src-shared/result-fields';

export interface SourceLabel {
  /** `R-4.2`, `O-3`, `O-3.1 (repeat 2)`. */
  position: string;
  /** `Value of result 3`, `Sample ID of results 1–9`. */
  text: string;
}

/** Segment index → the values read from it. */
export function sourceLabels(results: readonly ResultView[]): Map<number, SourceLabel[]> {
  const grouped = new Map<
    string,
    { segment: number; position: string; field: ResultField; results: number[] }
  >();
  results.forEach((result, index) => {
    for (const source of result.sources) {
      const key = `${source.segment}|${source.position}|${source.field}`;
      const entry = grouped.get(key);
      if (entry) entry.results.push(index + 1);
      else grouped.set(key, { ...source, results: [index + 1] });
    }
  });
  const bySegment = new Map<number, SourceLabel[]>();
  for (const entry of grouped.values()) {
    const label = RESULT_FIELD_LABELS[entry.field];
    const which = results.length === 1 ? '' : ` of ${numbers(entry.results)}`;
    const list = bySegment.get(entry.segment) ?? [];
    list.push({ position: entry.position, text: `${label}${which}` });
    bySegment.set(entry.segment, list);
  }
  return bySegment;
}

/** The field a position belongs to (`R-4` for `R-4.2`) and its component, if any. */
export function splitPosition(position: string): { field: string; component: number | null } {
  const match = /^([A-Z][A-Z0-9]*-\d+)(?:\.(\d+))?/.exec(position);
  if (!match) return { field: position, component: null };
  const repeated = position.includes('(repeat');
  return {
    field: match[1]!,
    component: match[2] === undefined || repeated ? null : Number(match[2]),
  };
}

/** `result 3`, `results 1–9`, `results 1, 4 and 6`. */
function numbers(list: number[]): string {
  if (list.length === 1) return `result ${list[0]}`;
  const consecutive = list.every((n, i) => i === 0 || n === list[i - 1]! + 1);
  if (consecutive) return `results ${list[0]}–${list.at(-1)}`;
  return `results ${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}
