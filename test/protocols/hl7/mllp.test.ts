import { describe, expect, it } from 'vitest';
import {
  MLLP_COMMIT_ACK,
  MLLP_COMMIT_NAK,
  MllpFramer,
  frameMllp,
  type MllpFramerOptions,
  type MllpItem,
} from '../../../src-main/protocols/hl7/mllp';
import { fixture, splits } from './support';

type Seen =
  | { kind: 'message'; text: string }
  | { kind: 'commit'; accepted: boolean }
  | { kind: 'error'; code: string; partial?: string };

function simplify(item: MllpItem): Seen {
  if (item.kind === 'message') return { kind: 'message', text: item.payload.toString('latin1') };
  if (item.kind === 'commit') return item;
  const seen: Seen = { kind: 'error', code: item.error.code };
  if (item.partial !== undefined) seen.partial = item.partial.toString('latin1');
  return seen;
}

function feed(chunks: Buffer[], options?: MllpFramerOptions, end = false): Seen[] {
  const framer = new MllpFramer(options);
  const seen: Seen[] = [];
  for (const chunk of chunks) for (const item of framer.push(chunk)) seen.push(simplify(item));
  if (end) for (const item of framer.end()) seen.push(simplify(item));
  return seen;
}

const one = fixture('oru-r01-chemistry-v231.hl7');
const two = fixture('custom-encoding-dollar.hl7');
const message = (bytes: Buffer): Seen => ({ kind: 'message', text: bytes.toString('latin1') });

describe('frameMllp', () => {
  it('wraps a payload in 0B ... 1C 0D', () => {
    expect([...frameMllp(Buffer.from('MSH|'))]).toEqual([0x0b, 0x4d, 0x53, 0x48, 0x7c, 0x1c, 0x0d]);
  });
});

describe('MllpFramer', () => {
  it('delivers a whole message', () => {
    expect(feed([frameMllp(one)])).toEqual([message(one)]);
  });

  it('delivers the same items whatever way the stream is split', () => {
    const stream = Buffer.concat([
      frameMllp(one),
      MLLP_COMMIT_ACK,
      frameMllp(two),
      MLLP_COMMIT_NAK,
    ]);
    const expected = [
      message(one),
      { kind: 'commit', accepted: true },
      message(two),
      { kind: 'commit', accepted: false },
    ];
    for (const chunks of splits(stream)) expect(feed(chunks)).toEqual(expected);
  });

  it('delivers several messages from one read, and keeps a partial next one', () => {
    const stream = Buffer.concat([frameMllp(one), frameMllp(two), frameMllp(one)]);
    const framer = new MllpFramer();
    const cut = stream.length - 10;
    const first = [...framer.push(stream.subarray(0, cut))].map(simplify);
    expect(first).toEqual([message(one), message(two)]);
    expect(framer.buffered).toBe(one.length - 8);
    expect(framer.inBlock).toBe(true);
    const rest = [...framer.push(stream.subarray(cut))].map(simplify);
    expect(rest).toEqual([message(one)]);
    expect(framer.buffered).toBe(0);
    expect(framer.inBlock).toBe(false);
  });

  it('ignores bytes before 0B and reports each run of them once', () => {
    const junk = Buffer.from('garbage\x00\xff more garbage');
    const stream = Buffer.concat([junk, frameMllp(one), junk, junk, frameMllp(two)]);
    const expected = [
      { kind: 'error', code: 'MLLP_UNEXPECTED_BYTES' },
      message(one),
      { kind: 'error', code: 'MLLP_UNEXPECTED_BYTES' },
      message(two),
    ];
    for (const chunks of splits(stream)) expect(feed(chunks)).toEqual(expected);
  });

  it('stays quiet about line ends some senders add after 1C 0D', () => {
    const stream = Buffer.concat([
      frameMllp(one),
      Buffer.from('\r\n'),
      frameMllp(two),
      Buffer.from('\n'),
    ]);
    expect(feed([stream])).toEqual([message(one), message(two)]);
  });

  it('takes a 1C without 0D as the end of the message and carries on', () => {
    const bad = Buffer.concat([Buffer.of(0x0b), one, Buffer.of(0x1c)]);
    const stream = Buffer.concat([bad, frameMllp(two)]);
    const expected = [{ kind: 'error', code: 'MLLP_BAD_END_BLOCK' }, message(one), message(two)];
    for (const chunks of splits(stream)) expect(feed(chunks)).toEqual(expected);
  });

  it('drops a block cut short by a new 0B, keeping its bytes for the record', () => {
    const stream = Buffer.concat([Buffer.of(0x0b), Buffer.from('MSH|^~\\&|HALF'), frameMllp(two)]);
    const expected = [
      { kind: 'error', code: 'MLLP_INCOMPLETE_BLOCK', partial: 'MSH|^~\\&|HALF' },
      message(two),
    ];
    for (const chunks of splits(stream)) expect(feed(chunks)).toEqual(expected);
  });

  it('reports a block left open at the end of the stream', () => {
    const stream = Buffer.concat([frameMllp(two), Buffer.of(0x0b), Buffer.from('MSH|^~\\&|CUT')]);
    expect(feed([stream], {}, true)).toEqual([
      message(two),
      { kind: 'error', code: 'MLLP_INCOMPLETE_BLOCK', partial: 'MSH|^~\\&|CUT' },
    ]);
  });

  it('releases an oversized message at once, skips it, and frames the next one', () => {
    const big = Buffer.alloc(5000, 'A');
    const framer = new MllpFramer({ maxMessageBytes: 1000 });
    expect([...framer.push(Buffer.concat([Buffer.of(0x0b), big.subarray(0, 600)]))]).toEqual([]);
    expect(framer.buffered).toBe(600);
    const overflow = [...framer.push(big.subarray(600, 1200))];
    expect(overflow.map(simplify)).toEqual([{ kind: 'error', code: 'MLLP_MESSAGE_TOO_LARGE' }]);
    expect(framer.buffered).toBe(0);
    const later = [
      ...framer.push(big.subarray(1200)),
      ...framer.push(Buffer.of(0x1c, 0x0d)),
      ...framer.push(frameMllp(two)),
    ];
    expect(framer.buffered).toBe(0);
    expect(later.map(simplify)).toEqual([message(two)]);
  });

  it('handles an oversized message split anywhere', () => {
    const stream = Buffer.concat([frameMllp(Buffer.alloc(300, 'B')), frameMllp(two)]);
    const expected = [{ kind: 'error', code: 'MLLP_MESSAGE_TOO_LARGE' }, message(two)];
    for (const chunks of splits(stream)) {
      expect(feed(chunks, { maxMessageBytes: two.length })).toEqual(expected);
    }
  });

  it('accepts a message of exactly the limit', () => {
    expect(feed([frameMllp(two)], { maxMessageBytes: two.length })).toEqual([message(two)]);
  });

  it('recognizes MLLP release 2 commit blocks', () => {
    expect(feed([MLLP_COMMIT_ACK, MLLP_COMMIT_NAK])).toEqual([
      { kind: 'commit', accepted: true },
      { kind: 'commit', accepted: false },
    ]);
  });

  it('keeps only the unfinished block in memory', () => {
    const framer = new MllpFramer();
    const items = [
      ...framer.push(Buffer.concat([frameMllp(one), Buffer.of(0x0b), Buffer.from('MSH|')])),
    ];
    expect(items).toHaveLength(1);
    expect(framer.buffered).toBe(4);
  });
});
