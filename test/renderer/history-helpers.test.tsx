// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  controlSymbol,
  toSymbolText,
  toSymbolTokens,
} from '../../src-renderer/history/control-symbols';
import { hexDump } from '../../src-renderer/history/hex-dump';
import {
  DEFAULT_FILTERS,
  mergeFresh,
  passesFilters,
  timeBounds,
  toMessageQuery,
  type TimeRange,
} from '../../src-renderer/history/query';
import { rowTop, squeeze } from '../../src-renderer/history/windowing';
import { ackWords, describeChunk, isRefusal } from '../../src-renderer/history/words';

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

describe('control symbols', () => {
  it('shows every framing character as its control picture', () => {
    const wire = '\x05\x021H|\\^&\r\x03A7\r\n\x06\x15\x17\x0b\x1c\x04';
    expect(toSymbolText(bytes(wire), { breakAfterCr: false })).toBe('␅␂1H|\\^&␍␃A7␍␊␆␕␗␋␜␄');
  });

  it('follows a CR with a line break for reading, and not an LF', () => {
    expect(toSymbolText(bytes('MSH|^~\\&\rPID|1\r\n'))).toBe('MSH|^~\\&␍\nPID|1␍\n␊');
  });

  it('uses U+2400 + code for other C0 controls, ␡ for DEL, hex for C1', () => {
    expect(controlSymbol(0x00)).toBe('␀');
    expect(controlSymbol(0x09)).toBe('␉');
    expect(controlSymbol(0x1f)).toBe('␟');
    expect(controlSymbol(0x7f)).toBe('␡');
    expect(controlSymbol(0x85)).toBe('⟨85⟩');
    expect(controlSymbol(0x41)).toBeNull();
  });

  it('decodes bytes above 0x7F as Latin-1', () => {
    expect(toSymbolText(Uint8Array.of(0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72))).toBe('Müller');
  });

  it('merges plain runs and marks control tokens', () => {
    expect(toSymbolTokens(bytes('\x02AB\x03'))).toEqual([
      { text: '␂', control: true },
      { text: 'AB', control: false },
      { text: '␃', control: true },
    ]);
  });

  it('reads base64 and gives nothing for garbage', () => {
    expect(Array.from(base64ToBytes(btoa('\x02x\x03')))).toEqual([2, 0x78, 3]);
    expect(base64ToBytes('***').length).toBe(0);
  });
});

describe('hex dump', () => {
  it('prints offset, 16 bytes in two groups and the ASCII column', () => {
    const data = bytes('\x021H|\\^&|||LAB^1\r\x03');
    const { lines, omitted } = hexDump(data);
    expect(omitted).toBe(0);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      offset: '00000000',
      hex: '02 31 48 7C 5C 5E 26 7C  7C 7C 4C 41 42 5E 31 0D',
      ascii: '.1H|\\^&|||LAB^1.',
    });
    expect(lines[1]!.offset).toBe('00000010');
    expect(lines[1]!.hex.trimEnd()).toBe('03');
    expect(lines[1]!.hex).toHaveLength(lines[0]!.hex.length);
    expect(lines[1]!.ascii).toBe('.');
  });

  it('stops at the limit and says how much was left out', () => {
    const { lines, omitted } = hexDump(new Uint8Array(100), 32);
    expect(lines).toHaveLength(2);
    expect(omitted).toBe(68);
  });

  it('is empty for no bytes', () => {
    expect(hexDump(new Uint8Array(0)).lines).toEqual([]);
  });
});

describe('windowing', () => {
  it('squeezes nothing below the cap', () => {
    expect(squeeze(1000, 32, 480)).toEqual({ scale: 1, tail: 0 });
    expect(squeeze(0, 32, 480)).toEqual({ scale: 1, tail: 0 });
    expect(rowTop(40, 32, 1, 777)).toBe(40 * 32);
  });

  it('keeps the scroll area at the cap and maps its ends onto the first and last rows', () => {
    const viewport = 600;
    const { scale, tail } = squeeze(2_000_000, 32, viewport, 1_000_000);
    // The virtualizer's scroll area: squeezed rows, then the tail.
    expect(2_000_000 * 32 * scale + tail).toBeCloseTo(1_000_000, 3);
    // At the top the first row is at the top of the viewport…
    expect(rowTop(0, 32, scale, 0)).toBe(0);
    // …and at the bottom the last row ends at the bottom of the viewport.
    const bottom = 1_000_000 - viewport;
    expect(rowTop(1_999_999, 32, scale, bottom) + 32).toBeCloseTo(viewport, 3);
  });

  it('shows a row at the top where the virtualizer scrolls to its squeezed start', () => {
    const { scale } = squeeze(1_000_000, 32, 480, 15_000_000);
    const start = 654_321 * 32 * scale;
    expect(rowTop(654_321, 32, scale, start)).toBeCloseTo(0, 6);
    expect(rowTop(654_322, 32, scale, start)).toBeCloseTo(32, 6);
  });
});

describe('query', () => {
  const row = (id: number, receivedAt: number) => ({ id, receivedAt });

  it('merges fresh messages at the newest end, without duplicates', () => {
    const items = [row(5, 50), row(4, 40), row(3, 30)];
    const merged = mergeFresh(items, [row(7, 45), row(6, 60), row(5, 50)], 'desc');
    expect(merged.map((item) => item.id)).toEqual([6, 5, 7, 4, 3]);
    const ascending = mergeFresh([row(3, 30), row(4, 40)], [row(6, 60), row(5, 35)], 'asc');
    expect(ascending.map((item) => item.id)).toEqual([3, 5, 4, 6]);
  });

  it('builds the request from the filters', () => {
    expect(toMessageQuery({ ...DEFAULT_FILTERS, search: '  S123 ' }, undefined)).toEqual({
      order: 'desc',
      search: 'S123',
    });
    expect(
      toMessageQuery(
        {
          ...DEFAULT_FILTERS,
          instrumentId: 'c1',
          protocol: 'hl7',
          direction: 'in',
          status: 'error',
          qc: false,
        },
        1000,
      ),
    ).toEqual({
      order: 'desc',
      instrumentId: 'c1',
      protocol: 'hl7',
      direction: 'in',
      status: 'error',
      qc: false,
      from: 1000,
    });
  });

  it('judges live messages by every filter but the search', () => {
    const message = {
      instrumentId: 'c1',
      protocol: 'astm' as const,
      direction: 'in' as const,
      status: 'stored',
      receivedAt: 5000,
      qc: true,
    };
    expect(passesFilters(message, DEFAULT_FILTERS, undefined)).toBe(true);
    expect(passesFilters(message, { ...DEFAULT_FILTERS, qc: true }, undefined)).toBe(true);
    expect(passesFilters(message, { ...DEFAULT_FILTERS, qc: false }, undefined)).toBe(false);
    expect(passesFilters(message, { ...DEFAULT_FILTERS, instrumentId: 'c2' }, undefined)).toBe(
      false,
    );
    expect(passesFilters(message, { ...DEFAULT_FILTERS, protocol: 'hl7' }, undefined)).toBe(false);
    expect(passesFilters(message, DEFAULT_FILTERS, 6000)).toBe(false);
  });

  it('starts time ranges an hour, a local midnight or a week back', () => {
    const now = new Date(2025, 2, 14, 15, 30).getTime();
    const bounds = (range: TimeRange) => timeBounds({ ...DEFAULT_FILTERS, range }, now);
    expect(bounds('hour')).toEqual({ from: now - 3_600_000 });
    expect(bounds('today')).toEqual({ from: new Date(2025, 2, 14).getTime() });
    expect(bounds('week')).toEqual({ from: now - 7 * 86_400_000 });
    expect(bounds('all')).toEqual({});
  });

  it('starts today at midnight in the gateway’s zone, not the browser’s', () => {
    // 03:30 UTC on 14 March 2025 is still the 13th, 23:30, in New York (UTC-4 after 9 March).
    const now = Date.UTC(2025, 2, 14, 3, 30);
    const range = { ...DEFAULT_FILTERS, range: 'today' as const };
    expect(timeBounds(range, now, 'America/New_York')).toEqual({
      from: Date.UTC(2025, 2, 13, 4, 0),
    });
    expect(timeBounds(range, now, 'Asia/Tokyo')).toEqual({ from: Date.UTC(2025, 2, 13, 15, 0) });
  });

  it('reads a custom range as wall-clock times in the gateway’s zone, “to” with its minute', () => {
    const custom = (customFrom: string, customTo: string) =>
      timeBounds({ ...DEFAULT_FILTERS, range: 'custom', customFrom, customTo }, 0, 'Europe/Berlin');
    // Berlin is UTC+1 in winter, UTC+2 from 30 March 2025.
    expect(custom('2025-03-02T08:00', '2025-03-02T12:30')).toEqual({
      from: Date.UTC(2025, 2, 2, 7, 0),
      to: Date.UTC(2025, 2, 2, 11, 31),
    });
    expect(custom('2025-07-01T00:00', '')).toEqual({ from: Date.UTC(2025, 5, 30, 22, 0) });
    expect(custom('', '2025-07-01T00:00')).toEqual({ to: Date.UTC(2025, 5, 30, 22, 1) });
    expect(custom('', '')).toEqual({});
    expect(custom('2025-03-02T12:00', '2025-03-02T08:00').problem).toBe(
      'The start is after the end: no message can match.',
    );
    expect(custom('yesterday', '').problem).toBe('The start is not a date and time.');
    // 02:30 on 30 March does not exist in Berlin: read as 03:30 summer time, not an error.
    expect(custom('2025-03-30T02:30', '').from).toBe(Date.UTC(2025, 2, 30, 1, 30));
    // 02:30 on 26 October happens twice; the first is meant.
    expect(custom('2025-10-26T02:30', '').from).toBe(Date.UTC(2025, 9, 26, 0, 30));
  });

  it('asks the gateway for a custom range and keeps later live messages out of it', () => {
    const filters = { ...DEFAULT_FILTERS, range: 'custom' as const };
    expect(toMessageQuery(filters, 1000, 5000)).toMatchObject({ from: 1000, to: 5000 });
    const message = {
      instrumentId: 'c1',
      protocol: 'astm' as const,
      direction: 'in' as const,
      status: 'ok',
      receivedAt: 5000,
      qc: false,
    };
    expect(passesFilters(message, filters, 1000, 5000)).toBe(false);
    expect(passesFilters({ ...message, receivedAt: 4999 }, filters, 1000, 5000)).toBe(true);
  });
});

describe('words', () => {
  it('says what an acknowledgement means', () => {
    expect(ackWords('ACK', 'in')).toBe('Acknowledged (ACK)');
    expect(ackWords(null, 'in')).toBe('Not acknowledged');
    expect(ackWords('CA AA', 'in')).toBe('Acknowledged: CA commit accepted, AA accepted');
    expect(ackWords('AE', 'in')).toBe('Not accepted: AE application error');
  });

  it('names the chunks of an exchange and spots refusals', () => {
    expect(describeChunk(bytes('\x05'))).toBe('request to send (ENQ)');
    expect(describeChunk(bytes('\x021H|\r\x03A7\r\n'))).toBe('frame 1 (last)');
    expect(describeChunk(bytes('\x022R|1\r\x17B1\r\n'))).toBe('frame 2 (more follows)');
    expect(describeChunk(bytes('\x0bMSH|^~\\&\r\x1c\r'))).toBe('HL7 message (MLLP)');
    expect(isRefusal(bytes('\x15'))).toBe(true);
    expect(isRefusal(bytes('\x06'))).toBe(false);
    expect(isRefusal(bytes('\x0bMSH|^~\\&|GW\rMSA|AE|123\r\x1c\r'))).toBe(true);
    expect(isRefusal(bytes('\x0bMSH|^~\\&|GW\rMSA|AA|123\r\x1c\r'))).toBe(false);
  });
});
