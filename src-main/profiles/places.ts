/**
 * What the reading rules ask of a message, whatever its protocol: for one result, the value at a
 * location of the records or segments it belongs to.
 */
import type { Location } from './locations';

/** A value found at a location, and exactly where (`O-3.2` for `O-3.*`). */
export interface Found {
  text: string;
  /** Index of the record or segment in the stored message's text (the Parsed tab's order). */
  segment: number;
  position: string;
}

/** `empty`: the place is there but blank; `absent`: the message has no such place at all. */
export type Lookup = Found | 'empty' | 'absent';

/** The records or segments one result was read from. */
export interface ResultPlaces {
  read(location: Location): Lookup;
  /** Where the message itself marks this result's sample as a control (`O-12`), or null. */
  qcMark(): string | null;
  /** The protocol's date-time text as ISO-8601; null when it is not one. */
  time(text: string): string | null;
  /** The result's own record or segment, shortened, to name it in notes. */
  readonly preview: string;
}

/** `O-3`, `O-3.2`, `O-3.1 (repeat 2)`: components are named only where the field has them. */
export function positionText(
  record: string,
  field: number,
  component: number | null,
  repeat = 1,
): string {
  const base = component === null ? `${record}-${field}` : `${record}-${field}.${component}`;
  return repeat > 1 ? `${base} (repeat ${repeat})` : base;
}

export function preview(text: string): string {
  let shown = '';
  for (const ch of text.length > 40 ? text.slice(0, 40) : text) {
    const code = ch.charCodeAt(0);
    shown += code < 0x20 || code === 0x7f ? ' ' : ch;
  }
  return text.length > 40 ? `${shown}…` : shown;
}
