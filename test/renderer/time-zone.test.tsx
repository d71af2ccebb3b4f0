import { afterEach, describe, expect, it } from 'vitest';
import { setDisplayZone } from '../../src-renderer/display-zone';
import { formatTime } from '../../src-renderer/format';
import { formatFullTime } from '../../src-renderer/history/words';
import { describeZone, isoWithOffset, localStampWithOffset } from '../../src-shared/time-zone';

afterEach(() => setDisplayZone(undefined));

const AT = Date.UTC(2026, 0, 15, 14, 35, 16, 42); // 14:35:16 UTC, 09:35:16 in New York

describe('one stated time zone', () => {
  it('shows every time in the gateway’s zone, whatever the browser’s, and names it', () => {
    setDisplayZone('Europe/Berlin');
    expect(formatTime(AT, AT)).toBe('15:35:16');
    expect(formatFullTime(AT)).toBe('2026-01-15 15:35:16.042');
    setDisplayZone('America/New_York');
    expect(formatTime(AT, AT)).toBe('09:35:16');
    expect(describeZone('America/New_York', AT)).toBe('America/New_York (UTC-05:00)');
  });

  it('writes ISO-8601 with the offset, also for an analyzer’s timestamp without a zone', () => {
    expect(isoWithOffset(AT, 'America/New_York')).toBe('2026-01-15T09:35:16-05:00');
    expect(isoWithOffset(Date.UTC(2026, 6, 1, 12), 'America/New_York')).toBe(
      '2026-07-01T08:00:00-04:00',
    );
    expect(localStampWithOffset('2026-01-15T09:35:16', 'Europe/Berlin')).toBe(
      '2026-01-15T09:35:16+01:00',
    );
    expect(localStampWithOffset('2026-07-15T09:35', 'Europe/Berlin')).toBe(
      '2026-07-15T09:35:00+02:00',
    );
    expect(localStampWithOffset('not a time', 'Europe/Berlin')).toBe('not a time');
  });
});
