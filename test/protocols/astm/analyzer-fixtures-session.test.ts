import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock';
import { controlName } from '../../../src-main/protocols/astm/control';
import { decodeAstm } from '../../../src-main/protocols/astm/decode';
import { decodeMessages } from '../../../src-main/protocols/astm/message';
import { AstmSession } from '../../../src-main/protocols/astm/session';

// The analyzer fixtures (analyzer-fixtures.test.ts) delivered through the live host session, as
// an analyzer would send them after ENQ, split wherever a socket read might split them.
const FIXTURES = new URL('../../fixtures/astm/', import.meta.url);
const ENQ = 0x05;
const EOT = 0x04;

/** A fixture between ENQ and EOT: the fixtures are sender-side recordings without either. */
function wire(name: string): Buffer {
  const raw = readFileSync(new URL(name, FIXTURES));
  expect(raw.includes(ENQ) || raw.includes(EOT)).toBe(false);
  return Buffer.concat([Buffer.of(ENQ), raw, Buffer.of(EOT)]);
}

/** What the host made of one delivery. */
interface Outcome {
  /** Every byte it sent back, named: ACK, NAK. */
  replies: string[];
  /** `CODE: message` of every problem it reported. */
  errors: string[];
  /** The text of each message it completed, in order. */
  texts: string[];
  incomplete: string[];
}

function deliver(chunks: Buffer[]): Outcome {
  const outcome: Outcome = { replies: [], errors: [], texts: [], incomplete: [] };
  const session: AstmSession = new AstmSession({
    clock: new FakeClock(),
    role: 'host',
    onEvent: (event) => {
      if (event.type === 'send') outcome.replies.push(controlName(event.bytes[0]!));
      else if (event.type === 'error')
        outcome.errors.push(`${event.error.code}: ${event.error.message}`);
      else if (event.type === 'incomplete')
        outcome.incomplete.push(event.message.text.toString('latin1'));
      else if (event.type === 'messages') {
        for (const m of event.messages) outcome.texts.push(m.text.toString('latin1'));
        session.settle(true);
      }
    },
  });
  for (const chunk of chunks) session.receive(chunk);
  return outcome;
}

/**
 * Offsets to split a delivery at: all of them for a small fixture; for a large one, those within
 * two bytes of a framing byte (STX, ETX, ETB, CR, LF, ENQ, EOT), where a split can matter.
 */
function splitOffsets(data: Buffer): number[] {
  const all = Array.from({ length: data.length + 1 }, (_, at) => at);
  if (data.length <= 8_192) return all;
  return all.filter((at) => {
    for (let i = Math.max(0, at - 2); i < Math.min(data.length, at + 2); i++) {
      if (data[i]! < 0x20) return true;
    }
    return false;
  });
}

/** Delivers the fixture whole, a byte at a time and split at each offset: always the same. */
function deliverEveryWay(name: string): Outcome {
  const data = wire(name);
  const whole = deliver([data]);
  expect(deliver([...data].map((b) => Buffer.of(b)))).toEqual(whole);
  for (const at of splitOffsets(data)) {
    const split = deliver([data.subarray(0, at), data.subarray(at)]);
    // Compared as one string first: an expect per offset would cost more than the delivery.
    if (JSON.stringify(split) !== JSON.stringify(whole))
      expect({ at, split }).toEqual({ at, whole });
  }
  return whole;
}

/** The decoder's reading of the fixture file, for comparison with what the session took in. */
function decoded(name: string) {
  return decodeAstm(readFileSync(new URL(name, FIXTURES))).messages;
}

function frames(name: string): number {
  return readFileSync(new URL(name, FIXTURES)).toString('latin1').split('\x02').length - 1;
}

describe('analyzer layouts through the live host session', () => {
  it.each([
    'one-frame-cr.astm',
    'etb-each-record.astm',
    'packed-padded-ids.astm',
    'packed-comments-after.astm',
    'repeat-at-escape-backslash.astm',
    'one-record-per-frame-lf.astm',
    'long-order-repeats.astm',
  ])('%s: every frame ACKed, the message read as the decoder reads the file', (name) => {
    const outcome = deliverEveryWay(name);
    expect(outcome.replies).toEqual(Array<string>(frames(name) + 1).fill('ACK'));
    expect(outcome.errors).toEqual([]);
    expect(outcome.incomplete).toEqual([]);
    expect(outcome.texts).toHaveLength(1);
    const live = decodeMessages(outcome.texts[0]!);
    expect(live).toEqual(decoded(name));
    expect(live[0]!.errors).toEqual([]);
  });

  it.each([
    ['keyed-line.txt', 97],
    ['fixed-width-report.txt', 116],
  ])('%s: not E1381 frames, so nothing is acknowledged or kept', (name, textBytes) => {
    const outcome = deliverEveryWay(name);
    expect(outcome).toEqual({
      replies: ['ACK'], // the ENQ's
      errors: [`ASTM_BAD_FRAME: frame cut short by EOT after ${textBytes} text bytes: ignored`],
      texts: [],
      incomplete: [],
    });
  });

  it('padded-values-cut-short: the whole message is taken, the frame without a checksum not', () => {
    const outcome = deliverEveryWay('padded-values-cut-short.astm');
    expect(outcome.replies).toEqual(['ACK', 'ACK']);
    expect(outcome.errors).toEqual([
      'ASTM_BAD_FRAME: frame cut short by EOT after 373 text bytes: ignored',
    ]);
    expect(outcome.incomplete).toEqual([]);
    expect(outcome.texts.map((text) => decodeMessages(text))).toEqual([
      [decoded('padded-values-cut-short.astm')[0]],
    ]);
  });

  it('long-session-restarts: frames out of E1381 sequence are refused, as the standard says', () => {
    const outcome = deliverEveryWay('long-session-restarts.astm');
    // A recording cannot repeat a refused frame as a live sender would, so the host keeps only
    // what E1381 lets it accept: a frame numbered one past the last accepted one. After C as
    // frame 5, the first M record (frames 1-4) and the second's frames 1-4 are refused; the
    // second's frame 5 passes for a repeat of the last accepted frame and its frames 6, 7, 0, 1
    // are taken. The third M record's frame 1 is a repeat again and its 82 other frames are
    // taken, the last numbered 3; then the fourth M record and R1 (frames 1, 2) are refused and
    // R2 (frame 3) is a repeat, so R3 onwards are taken.
    const refusals = (numbers: string, expected: number): string[] =>
      [...numbers].map(
        (n) =>
          `ASTM_BAD_FRAME_NUMBER: frame ${n} received, expected frame ${expected}; answered NAK`,
      );
    const repeat = (n: number): string =>
      `ASTM_DUPLICATE_FRAME: frame ${n} received again (our ACK was lost); acknowledged, kept once`;
    expect(outcome.errors).toEqual([
      ...refusals('1234', 6),
      ...refusals('1234', 6),
      repeat(5),
      repeat(1),
      ...refusals('12', 4),
      repeat(3),
    ]);
    const replies = (name: string, n: number): string[] => Array<string>(n).fill(name);
    expect(outcome.replies).toEqual([
      ...replies('ACK', 1 + 5), // ENQ, H P O C C
      ...replies('NAK', 8),
      ...replies('ACK', 1 + 4 + 1 + 82),
      ...replies('NAK', 2),
      ...replies('ACK', 1 + 16 + 1), // the repeat, R3 to R18, L
    ]);
    expect(outcome.incomplete).toEqual([]);
    expect(outcome.texts).toHaveLength(1);
    const records = decoded('long-session-restarts.astm')[0]!.records.map((r) => r.text);
    expect(outcome.texts[0]!.split('\r')).toEqual([
      ...records.slice(0, 5),
      records[6]!.slice(5 * 240), // the second M record from its sixth frame
      records[7]!.slice(240), // the third M record without its first frame
      ...records.slice(11), // R3 to R18, L
      '',
    ]);
  });
});
