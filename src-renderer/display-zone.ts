/**
 * The one time zone every screen shows times in: the gateway's local zone once the gateway has
 * named it (so a browser elsewhere shows the lab's clock), the browser's own until then.
 */
import { zonedParts, type ZonedParts } from '../src-shared/time-zone';

let displayZone: string | undefined;

export function setDisplayZone(timeZone: string | undefined): void {
  displayZone = timeZone;
}

export function getDisplayZone(): string | undefined {
  return displayZone;
}

/** Wall-clock parts of `ms` in the display zone. */
export function displayParts(ms: number): ZonedParts {
  return zonedParts(ms, displayZone);
}
