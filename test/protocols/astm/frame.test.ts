import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_SEND_FRAME_TEXT,
  FrameScanner,
  checksum,
  encodeFrame,
  layoutFrames,
  type ScanItem,
} from '../../../src-main/protocols/astm/frame';

const STX = '\x02';
const ETX = '\x03';
const EOT = '\x04';
const ENQ = '\x05';
const ACK = '\x06';
const LF = '\n';
const CR = '\r';
const NAK = '\x15';
const ETB = '\x17';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

const HEADER = 'H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000';
const PATIENT = 'P|1||PID001||DOE^JOHN||19800101|M';
const ORDER = 'O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F';
const RESULT = 'R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500';
const TERMINATOR = 'L|1|N';

/** PROTOCOLS.md "Worked bytes": frame number, text, ETX (true) or ETB, checksum. */
const WORKED: [name: string, fn: number, text: string, final: boolean, sum: string][] = [
  ['header', 1, HEADER + CR, true, '8D'],
  ['patient', 2, PATIENT + CR, true, '57'],
  ['order', 3, ORDER + CR, true, 'C4'],
  ['result', 4, RESULT + CR, true, 'FC'],
  ['terminator', 5, TERMINATOR + CR, true, '08'],
  [
    'five records in one frame',
    1,
    [HEADER, PATIENT, ORDER, RESULT, TERMINATOR, ''].join(CR),
    true,
    'D2',
  ],
  ['split record, first part', 3, 'R|1|^^^GLU', false, 'C7'],
  ['split record, second part', 4, '|5.4|mmol/L' + CR, true, '03'],
  ['wraparound 7', 7, 'R|6|^^^T6|6' + CR, true, '1D'],
  ['wraparound 0', 0, 'R|7|^^^T7|7' + CR, true, '19'],
  ['wraparound 1', 1, 'L|1|N' + CR, true, '04'],
  ['host query', 2, 'Q|1|^SID001||ALL||||||||O' + CR, true, '8B'],
  ['no information', 2, 'L|1|I' + CR, true, '00'],
];

function wire(fn: number, text: string, final: boolean, sum: string): string {
  return `${STX}${fn}${text}${final ? ETX : ETB}${sum}${CR}${LF}`;
}

function scanAll(scanner: FrameScanner, chunks: Buffer[]): ScanItem[] {
  const items: ScanItem[] = [];
  for (const chunk of chunks) for (const item of scanner.push(chunk)) items.push(item);
  return items;
}

/** Items with buffers turned into strings, so whole and split runs compare with toEqual. */
function plain(items: ScanItem[]): unknown[] {
  return items.map((item) =>
    item.kind === 'frame'
      ? {
          kind: 'frame',
          frame: {
            ...item.frame,
            text: item.frame.text.toString('latin1'),
            raw: item.frame.raw.toString('latin1'),
          },
        }
      : item,
  );
}

/** Every way of cutting `data` in two, plus one byte at a time. */
function splits(data: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let at = 0; at <= data.length; at++) out.push([data.subarray(0, at), data.subarray(at)]);
  out.push([...data].map((b) => Buffer.of(b)));
  return out;
}

describe('checksum and encodeFrame', () => {
  it.each(WORKED)('%s: checksum %#', (_name, fn, text, final, sum) => {
    expect(checksum(fn, bytes(text), final)).toBe(sum);
    expect(encodeFrame(fn, bytes(text), final).toString('latin1')).toBe(wire(fn, text, final, sum));
  });

  it('detects the corrupted patient frame: its sum is 33, not 57', () => {
    expect(checksum(2, bytes('P|1X|PID001||DOE^JOHN||19800101|M' + CR), true)).toBe('33');
  });

  it('writes frame number 8 as 0 and pads small sums with a zero', () => {
    expect(encodeFrame(8, bytes('R|7|^^^T7|7' + CR), true).toString('latin1')).toBe(
      wire(0, 'R|7|^^^T7|7' + CR, true, '19'),
    );
    expect(checksum(2, bytes('L|1|I' + CR), true)).toBe('00');
  });
});

describe('layoutFrames', () => {
  it('puts one record per frame, its CR last before ETX', () => {
    const frames = layoutFrames([HEADER, PATIENT, ORDER, RESULT, TERMINATOR].map(bytes));
    expect(frames.map((f) => f.bytes.toString('latin1'))).toEqual(
      WORKED.slice(0, 5).map(([, fn, text, final, sum]) => wire(fn, text, final, sum)),
    );
    expect(frames.every((f) => f.final)).toBe(true);
  });

  it('splits a long record into ETB frames of at most maxText bytes', () => {
    const record = 'M|1|' + 'x'.repeat(600);
    const frames = layoutFrames([bytes(record), bytes(TERMINATOR)], DEFAULT_SEND_FRAME_TEXT);
    expect(frames.map((f) => [f.number, f.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, true],
    ]);
    const texts = frames.map((f) => f.bytes.subarray(2, -5).toString('latin1'));
    expect(texts.map((t) => t.length)).toEqual([240, 240, 125, 6]);
    expect(texts.join('')).toBe(record + CR + TERMINATOR + CR);
    expect(frames[0]!.bytes[frames[0]!.bytes.length - 5]).toBe(0x17);
    expect(texts[2]!.endsWith(CR)).toBe(true);
  });

  it('splits exactly at the limit without an empty frame', () => {
    const frames = layoutFrames([bytes('x'.repeat(9))], 10);
    expect(frames).toHaveLength(1);
    expect(layoutFrames([bytes('x'.repeat(10))], 10)).toHaveLength(2);
  });

  it('numbers frames 1..7, 0, 1 and can start elsewhere', () => {
    const records = Array.from({ length: 10 }, (_, i) => bytes(`R|${i + 1}`));
    expect(layoutFrames(records).map((f) => f.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 0, 1, 2]);
    expect(layoutFrames(records.slice(0, 3), 240, 6).map((f) => f.number)).toEqual([6, 7, 0]);
    const wrap = layoutFrames(['R|6|^^^T6|6', 'R|7|^^^T7|7', 'L|1|N'].map(bytes), 240, 7);
    expect(wrap.map((f) => f.bytes.toString('latin1'))).toEqual(
      WORKED.slice(8, 11).map(([, fn, text, final, sum]) => wire(fn, text, final, sum)),
    );
  });

  it('refuses a limit below one byte', () => {
    expect(() => layoutFrames([bytes('H')], 0)).toThrow(RangeError);
  });
});

describe('FrameScanner', () => {
  it.each(WORKED)(
    '%s: whole, split at every offset and byte by byte',
    (_n, fn, text, final, sum) => {
      const data = bytes(wire(fn, text, final, sum));
      const expected = [
        {
          kind: 'frame',
          frame: {
            number: fn,
            text,
            final,
            checksum: sum,
            expected: sum,
            raw: wire(fn, text, final, sum).slice(0, -2),
            offset: 0,
            restricted: null,
          },
        },
      ];
      for (const chunks of splits(data)) {
        expect(plain(scanAll(new FrameScanner(), chunks))).toEqual(expected);
      }
    },
  );

  it('reads the worked session (ENQ, five frames, EOT) split at every offset', () => {
    const frames = WORKED.slice(0, 5).map(([, fn, text, final, sum]) => wire(fn, text, final, sum));
    const data = bytes(ENQ + frames.join('') + EOT);
    const whole = plain(scanAll(new FrameScanner(), [data]));
    expect(whole.map((item) => (item as { kind: string }).kind)).toEqual([
      'control',
      'frame',
      'frame',
      'frame',
      'frame',
      'frame',
      'control',
    ]);
    expect(whole[0]).toEqual({ kind: 'control', byte: 0x05 });
    expect(whole[6]).toEqual({ kind: 'control', byte: 0x04 });
    for (const chunks of splits(data)) {
      expect(plain(scanAll(new FrameScanner(), chunks))).toEqual(whole);
    }
  });

  it('keeps the same items for any chunking of a stream of frames (property)', () => {
    const frames = WORKED.map(([, fn, text, final, sum]) => wire(fn, text, final, sum));
    const data = bytes(ENQ + frames.join('x') + ACK + NAK + EOT);
    const whole = plain(scanAll(new FrameScanner(), [data]));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: data.length - 1 })), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), data.length];
        const chunks = points.slice(1).map((end, i) => data.subarray(points[i], end));
        expect(plain(scanAll(new FrameScanner(), chunks))).toEqual(whole);
      }),
    );
  });

  it('accepts frames ending C1 C2 LF, C1 C2 CR, or nothing', () => {
    const text = PATIENT + CR;
    for (const ending of [LF, CR, '']) {
      const data = bytes(`${STX}2${text}${ETX}57${ending}${STX}5L|1|N${CR}${ETX}08${ending}`);
      for (const chunks of splits(data)) {
        const items = scanAll(new FrameScanner(), chunks);
        expect(items.map((i) => (i.kind === 'frame' ? i.frame.number : i.kind))).toEqual([2, 5]);
        expect(
          items.every((i) => i.kind === 'frame' && i.frame.checksum === i.frame.expected),
        ).toBe(true);
      }
    }
  });

  it('ignores bytes before STX but reports control bytes between frames', () => {
    const data = bytes(`garbage\r\n${ACK}more${NAK}${wire(5, 'L|1|N' + CR, true, '08')}`);
    const items = scanAll(new FrameScanner(), [data]);
    expect(items.map((i) => (i.kind === 'frame' ? i.frame.number : i))).toEqual([
      { kind: 'control', byte: 0x06 },
      { kind: 'control', byte: 0x15 },
      5,
    ]);
  });

  it('reports the checksum as received, lowercase included, and flags a mismatch', () => {
    const items = scanAll(new FrameScanner(), [bytes(wire(3, ORDER + CR, true, 'c4'))]);
    expect(items[0]).toMatchObject({ kind: 'frame', frame: { checksum: 'c4', expected: 'C4' } });
    const bad = scanAll(new FrameScanner(), [
      bytes(wire(2, 'P|1X|PID001||DOE^JOHN||19800101|M' + CR, true, '57')),
    ]);
    expect(bad[0]).toMatchObject({ kind: 'frame', frame: { checksum: '57', expected: '33' } });
  });

  it('flags the first restricted byte and a frame number that is not a digit 0-7', () => {
    const restricted = scanAll(new FrameScanner(), [
      bytes(wire(1, `A${LF}B\x10C${CR}`, true, '00')),
    ]);
    expect(restricted[0]).toMatchObject({ kind: 'frame', frame: { number: 1, restricted: 0x0a } });
    for (const fn of ['8', 'A', ' ']) {
      const items = scanAll(new FrameScanner(), [bytes(`${STX}${fn}L|1${CR}${ETX}00${CR}${LF}`)]);
      expect(items[0]).toMatchObject({
        kind: 'frame',
        frame: { number: null, text: bytes('L|1' + CR) },
      });
    }
  });

  it('drops an oversized frame and reads the next one', () => {
    const data = bytes(wire(1, 'x'.repeat(50), true, '00') + wire(2, 'L|1' + CR, true, '3B'));
    for (const chunks of splits(data)) {
      const items = scanAll(new FrameScanner(10), chunks);
      // Said as soon as the frame passes the limit, whatever the chunking…
      expect(items[0]).toEqual({ kind: 'oversize', bytes: expect.any(Number), limit: 10 });
      expect((items[0] as { bytes: number }).bytes).toBeGreaterThan(10);
      // …and answered when it ends.
      expect(items[1]).toEqual({
        kind: 'broken',
        reason: 'too-large',
        bytes: 50,
        interruptedBy: null,
      });
      expect(items[2]).toMatchObject({
        kind: 'frame',
        frame: { number: 2, text: bytes('L|1' + CR) },
      });
      expect(items).toHaveLength(3);
    }
  });

  it('accepts a frame of exactly the limit', () => {
    const items = scanAll(new FrameScanner(10), [bytes(wire(1, 'x'.repeat(10), true, '00'))]);
    expect(items[0]).toMatchObject({ kind: 'frame', frame: { number: 1 } });
  });

  it('lets an EOT cut an oversized frame short', () => {
    const items = scanAll(new FrameScanner(10), [bytes(`${STX}1${'x'.repeat(50)}${EOT}`)]);
    expect(items).toEqual([
      { kind: 'oversize', bytes: 50, limit: 10 },
      { kind: 'broken', reason: 'too-large', bytes: 50, interruptedBy: 0x04 },
      { kind: 'control', byte: 0x04 },
    ]);
  });

  it('gives up a frame interrupted by STX and reads the frame that follows', () => {
    const good = wire(2, PATIENT + CR, true, '57');
    const data = bytes(`${STX}2P|1||PI${good}`);
    for (const chunks of splits(data)) {
      const items = scanAll(new FrameScanner(), chunks);
      expect(items[0]).toEqual({
        kind: 'broken',
        reason: 'interrupted',
        bytes: 7,
        interruptedBy: 0x02,
      });
      expect(items[1]).toMatchObject({
        kind: 'frame',
        frame: { number: 2, raw: bytes(good.slice(0, -2)) },
      });
      expect(items).toHaveLength(2);
    }
  });

  it('does not swallow an EOT, ENQ or STX in place of the checksum', () => {
    for (const cut of [EOT, ENQ]) {
      for (const partial of [`${STX}5L|1|N${CR}${ETX}`, `${STX}5L|1|N${CR}${ETX}0`, `${STX}`]) {
        const items = scanAll(new FrameScanner(), [bytes(partial + cut)]);
        expect(items).toEqual([
          expect.objectContaining({ kind: 'broken', interruptedBy: cut.charCodeAt(0) }),
          { kind: 'control', byte: cut.charCodeAt(0) },
        ]);
      }
    }
    const items = scanAll(new FrameScanner(), [
      bytes(`${STX}5L|1|N${CR}${ETX}0` + wire(5, 'L|1|N' + CR, true, '08')),
    ]);
    expect(items.map((i) => i.kind)).toEqual(['broken', 'frame']);
    const oversized = scanAll(new FrameScanner(2), [bytes(`${STX}5L|1|N${CR}${ETX}0${EOT}`)]);
    expect(oversized).toEqual([
      { kind: 'oversize', bytes: 6, limit: 2 },
      { kind: 'broken', reason: 'too-large', bytes: 6, interruptedBy: 0x04 },
      { kind: 'control', byte: 0x04 },
    ]);
  });

  it('knows when it is inside a frame and forgets it on reset', () => {
    const scanner = new FrameScanner();
    scanAll(scanner, [bytes(`${STX}1H|`)]);
    expect(scanner.inFrame).toBe(true);
    expect(scanner.buffered).toBe(2);
    scanner.reset();
    expect(scanner.inFrame).toBe(false);
    const items = scanAll(scanner, [
      bytes(`abc${ETX}00${CR}${LF}` + wire(5, 'L|1|N' + CR, true, '08')),
    ]);
    expect(items.map((i) => (i.kind === 'frame' ? i.frame.number : i.kind))).toEqual([5]);
  });
});
