import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatAstmTimestamp,
  toAstmTimestamp,
  toIsoTimestamp,
} from '../../../src-main/protocols/astm/records-time';

describe('toIsoTimestamp', () => {
  it.each([
    ['20240101115500', '2024-01-01T11:55:00'],
    ['  20240101115500  ', '2024-01-01T11:55:00'],
    ['202401011155', '2024-01-01T11:55'],
    ['2024010111', '2024-01-01T11:00'],
    ['20240101', '2024-01-01'],
    ['202401', '2024-01'],
    ['2024', '2024'],
    ['20240229000000', '2024-02-29T00:00:00'],
    ['20240101115500.25', '2024-01-01T11:55:00.25'],
    ['20240101115500+0100', '2024-01-01T11:55:00+01:00'],
    ['20240101115500-0530', '2024-01-01T11:55:00-05:30'],
    ['202401011155Z', '2024-01-01T11:55Z'],
    ['2024-01-01 11:55:00', '2024-01-01T11:55:00'],
    ['2024-01-01T11:55', '2024-01-01T11:55'],
  ])('%j → %j', (raw, iso) => {
    expect(toIsoTimestamp(raw)).toBe(iso);
  });

  it.each([
    '',
    '   ',
    '2024010',
    '20241301',
    '20230229',
    '20240132',
    '20240101246000',
    '20240101116000',
    '20240101115561',
    '202401011155001',
    '20240101x',
    '20240101115500+01',
    'yesterday',
    '2024-13-01',
  ])('%j → null', (raw) => {
    expect(toIsoTimestamp(raw)).toBeNull();
  });

  it('gives null for null and undefined', () => {
    expect(toIsoTimestamp(null)).toBeNull();
    expect(toIsoTimestamp(undefined)).toBeNull();
  });

  it('answers the same for a repeated value and a different one after it', () => {
    expect(toIsoTimestamp('20240101115500')).toBe('2024-01-01T11:55:00');
    expect(toIsoTimestamp('20240101115500')).toBe('2024-01-01T11:55:00');
    expect(toIsoTimestamp('bad')).toBeNull();
    expect(toIsoTimestamp('bad')).toBeNull();
    expect(toIsoTimestamp('20240101')).toBe('2024-01-01');
  });
});

describe('toAstmTimestamp and formatAstmTimestamp', () => {
  it('turns ISO into LIS2-A2 digits and leaves digits alone', () => {
    expect(toAstmTimestamp('2024-01-01T11:55:00')).toBe('20240101115500');
    expect(toAstmTimestamp('2024-01-01T11:55:00+01:00')).toBe('20240101115500');
    expect(toAstmTimestamp('2024-01-01')).toBe('20240101');
    expect(toAstmTimestamp('20240101115500')).toBe('20240101115500');
    expect(toAstmTimestamp('soon')).toBe('soon');
  });

  it('formats epoch milliseconds in a given offset', () => {
    const ms = Date.UTC(2026, 10, 26, 10, 15, 30);
    expect(formatAstmTimestamp(ms)).toBe('20261126101530');
    expect(formatAstmTimestamp(ms, 60)).toBe('20261126111530');
    expect(formatAstmTimestamp(ms, -11 * 60)).toBe('20261125231530');
    expect(formatAstmTimestamp(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe('20240229235959');
  });

  it('agrees with Date for any instant', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (ms, offset) => {
          const iso = new Date(ms + offset * 60_000).toISOString();
          const digits = iso.slice(0, 19).replace(/[-T:]/gu, '');
          expect(formatAstmTimestamp(ms, offset)).toBe(digits);
          expect(toIsoTimestamp(digits)).toBe(iso.slice(0, 19));
        },
      ),
    );
  });
});
