/**
 * Field locations (`R-4.2`, `O-3.*`, `R-3.4+`, `OBX-5`) and rules made of them, parsed once and
 * kept: profiles are read for every result of every message of their instruments.
 */
import { isLocationList, type FieldLocation, type FieldRule } from '../../src-shared/profiles';

/** Which part of the field a location takes. */
export type Pick =
  | { kind: 'field' }
  | { kind: 'component'; index: number }
  /** The first non-empty component from `index` on, in the first repeat. */
  | { kind: 'from'; index: number }
  /** The first non-empty component of any repeat. */
  | { kind: 'any' };

export interface Location {
  /** ASTM record type (`R`) or HL7 segment name (`OBX`). */
  record: string;
  field: number;
  pick: Pick;
  /** As written in the profile. */
  text: string;
}

export type CompiledRule =
  | { kind: 'first'; locations: Location[] }
  | { kind: 'join'; locations: Location[]; separator: string };

const LOCATION = /^([A-Z][A-Z0-9]{0,2})-([1-9][0-9]{0,2})(?:\.(?:([1-9][0-9]{0,2})(\+)?|(\*)))?$/u;

/** Parses `R-4.2`; throws with plain words for a location no reader could follow. */
export function parseLocation(text: FieldLocation): Location {
  const m = LOCATION.exec(text);
  if (!m) {
    throw new Error(
      `"${text}" is not a field location (examples: R-4, R-4.2, R-3.4+, O-3.*, OBX-5.1)`,
    );
  }
  const [, record, field, component, from, any] = m;
  let pick: Pick = { kind: 'field' };
  if (any !== undefined) pick = { kind: 'any' };
  else if (component !== undefined) {
    pick = { kind: from === undefined ? 'component' : 'from', index: Number(component) };
  }
  return { record: record!, field: Number(field), pick, text };
}

const compiled = new WeakMap<object, CompiledRule>();
const single = new Map<string, CompiledRule>();

export function compileRule(rule: FieldRule): CompiledRule {
  if (typeof rule === 'string') {
    let out = single.get(rule);
    if (!out) {
      out = { kind: 'first', locations: [parseLocation(rule)] };
      single.set(rule, out);
    }
    return out;
  }
  let out = compiled.get(rule);
  if (!out) {
    out = isLocationList(rule)
      ? { kind: 'first', locations: rule.map(parseLocation) }
      : { kind: 'join', locations: rule.parts.map(parseLocation), separator: rule.separator };
    compiled.set(rule, out);
  }
  return out;
}
