/**
 * Reads results with a profile: each field the profile names is read where it says, the others
 * keep the generic reading, and a profile that does not fit a message never costs a value: the
 * generic reading is kept and a note says, in plain words, what did not fit.
 */
import type { ResultSource } from '../../src-shared/contract';
import {
  GENERIC_RULES,
  isLocationList,
  type FieldRule,
  type InstrumentProfile,
} from '../../src-shared/profiles';
import {
  RESULT_FIELDS,
  RESULT_FIELD_LABELS,
  type ResultField,
} from '../../src-shared/result-fields';
import type { Protocol, Result } from '../../src-shared/results';
import type { CodedError } from '../../src-shared/status';
import { compileRule } from './locations';
import type { Found, ResultPlaces } from './places';

export const PROFILE_MISMATCH = 'PROFILE_MISMATCH';

/** A rule's reading: the value and the places it came from, or why there is none. */
export type RuleOutcome = { text: string; from: Found[] } | 'empty' | 'absent';

export function evaluateRule(rule: FieldRule, places: ResultPlaces): RuleOutcome {
  const compiled = compileRule(rule);
  let present = false;
  if (compiled.kind === 'first') {
    for (const location of compiled.locations) {
      const lookup = places.read(location);
      if (typeof lookup === 'object') return { text: lookup.text, from: [lookup] };
      if (lookup === 'empty') present = true;
    }
    return present ? 'empty' : 'absent';
  }
  const from: Found[] = [];
  for (const location of compiled.locations) {
    const lookup = places.read(location);
    if (typeof lookup === 'object') from.push(lookup);
    if (lookup !== 'absent') present = true;
  }
  if (from.length > 0) return { text: from.map((f) => f.text).join(compiled.separator), from };
  return present ? 'empty' : 'absent';
}

export interface ProfiledResults {
  results: Result[];
  /** Per result, where each of its values was read; present when asked for. */
  sources?: ResultSource[][];
  notes: CodedError[];
}

/**
 * `generic[i]` is the generic reading of the result whose records `places[i]` gives. With a null
 * profile the results stay as they are (the sources are still worked out when asked for).
 */
export function applyProfile(
  protocol: Protocol,
  generic: readonly Result[],
  places: readonly ResultPlaces[],
  profile: InstrumentProfile | null,
  options: { sources?: boolean } = {},
): ProfiledResults {
  const notes = new NoteCollector(profile, generic.length);
  const results: Result[] = [];
  const sources: ResultSource[][] = [];
  for (let i = 0; i < generic.length; i++) {
    const result = copyOf(generic[i]!);
    const resultSources: ResultSource[] = [];
    for (const field of RESULT_FIELDS) {
      const rule = profile?.results[field];
      let from: Found[] | null = null;
      if (rule !== undefined) {
        const outcome = evaluateRule(rule, places[i]!);
        if (outcome === 'absent') notes.absent(field, rule, i, places[i]!);
        else if (typeof outcome === 'object') {
          const value = field === 'observedAt' ? places[i]!.time(outcome.text) : outcome.text;
          if (value === null) notes.notATime(rule, i, outcome.text);
          else {
            result[field] = value;
            from = outcome.from;
          }
        }
      }
      if (options.sources && from === null && result[field] !== null) {
        const outcome = evaluateRule(GENERIC_RULES[protocol][field], places[i]!);
        if (typeof outcome === 'object') from = outcome.from;
      }
      for (const found of from ?? []) {
        resultSources.push({ field, segment: found.segment, position: found.position });
      }
    }
    results.push(result);
    if (options.sources) sources.push(resultSources);
  }
  return { results, ...(options.sources ? { sources } : {}), notes: notes.list() };
}

/** One note per field and kind of problem, however many results it touched. */
class NoteCollector {
  private readonly seen = new Map<string, { count: number; make: (count: number) => string }>();

  constructor(
    private readonly profile: InstrumentProfile | null,
    private readonly total: number,
  ) {}

  absent(field: ResultField, rule: FieldRule, index: number, places: ResultPlaces): void {
    const label = lowerFirst(RESULT_FIELD_LABELS[field]);
    const where = placesOf(rule);
    this.add(`absent:${field}`, (count) => {
      const which =
        this.total === 1
          ? `the result ("${places.preview}") has`
          : `${count} of ${this.total} results have (first: result ${index + 1}, "${places.preview}")`;
      return `${this.name()} does not fit: ${which} no ${where} for the ${label}; the generic reading was kept`;
    });
  }

  notATime(rule: FieldRule, index: number, text: string): void {
    this.add('time', (count) => {
      const more = count > 1 ? ` (and ${count - 1} more results)` : '';
      return `${this.name()} does not fit: ${placesOf(rule)} of result ${index + 1} holds "${text}", which is not a date and time${more}; the generic reading was kept`;
    });
  }

  list(): CodedError[] {
    return [...this.seen.values()].map((entry) => ({
      code: PROFILE_MISMATCH,
      message: entry.make(entry.count),
    }));
  }

  private name(): string {
    return this.profile ? `profile "${this.profile.name}" (${this.profile.title})` : 'the profile';
  }

  private add(key: string, make: (count: number) => string): void {
    const entry = this.seen.get(key);
    if (entry) entry.count++;
    else this.seen.set(key, { count: 1, make });
  }
}

/** `R-13.1 or R-12.1`, `R-3.4, R-3.7 and R-3.8`. */
function placesOf(rule: FieldRule): string {
  if (typeof rule === 'string') return rule;
  if (isLocationList(rule)) return rule.join(' or ');
  const parts = rule.parts;
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Field by field: an object spread is far slower on the receive path, which every result takes. */
function copyOf(r: Result): Result {
  return {
    sampleId: r.sampleId,
    patientId: r.patientId,
    testCode: r.testCode,
    value: r.value,
    units: r.units,
    flags: r.flags,
    status: r.status,
    observedAt: r.observedAt,
  };
}
