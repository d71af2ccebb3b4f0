import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FakeClock } from '../../support/fake-clock';
import { controlName } from '../../../src-main/protocols/astm/control';
import {
  FrameScanner,
  encodeFrame,
  type ReceivedFrame,
} from '../../../src-main/protocols/astm/frame';
import {
  AstmSession,
  type AstmEvent,
  type AstmInboundMessage,
  type AstmRole,
  type AstmSessionOptions,
} from '../../../src-main/protocols/astm/session';
import type { ProtocolError } from '../../../src-main/protocols/errors';

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
const latin1 = (data: Buffer): string => data.toString('latin1');

const HEADER = 'H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000';
const PATIENT = 'P|1||PID001||DOE^JOHN||19800101|M';
const ORDER = 'O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F';
const RESULT = 'R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500';
const TERMINATOR = 'L|1|N';
const TEXT = [HEADER, PATIENT, ORDER, RESULT, TERMINATOR].map((r) => r + CR).join('');

/** PROTOCOLS.md "Worked bytes", exactly as on the wire. */
const FRAMES = [
  `${STX}1${HEADER}${CR}${ETX}8D${CR}${LF}`,
  `${STX}2${PATIENT}${CR}${ETX}57${CR}${LF}`,
  `${STX}3${ORDER}${CR}${ETX}C4${CR}${LF}`,
  `${STX}4${RESULT}${CR}${ETX}FC${CR}${LF}`,
  `${STX}5${TERMINATOR}${CR}${ETX}08${CR}${LF}`,
];
const SESSION = ENQ + FRAMES.join('') + EOT;
const PACKED = `${STX}1${TEXT}${ETX}D2${CR}${LF}`;
const CORRUPTED_PATIENT = `${STX}2P|1X|PID001||DOE^JOHN||19800101|M${CR}${ETX}57${CR}${LF}`;
const ACKS = (n: number): string[] => Array.from({ length: n }, () => 'ACK');

/** A frame with a correct checksum (the checksum itself is checked in frame.test.ts). */
const frame = (fn: number, text: string, final = true): string =>
  latin1(encodeFrame(fn, bytes(text), final));

/** "ACK", "EOT", ... for control bytes, "frame 3" for a frame. */
function wireName(data: Buffer): string {
  return data.length === 1 ? controlName(data[0]!) : `frame ${String.fromCharCode(data[1]!)}`;
}

function messagesOf(events: AstmEvent[]): AstmInboundMessage[] {
  return events.flatMap((e) => (e.type === 'messages' ? e.messages : []));
}
function incompleteOf(events: AstmEvent[]): AstmInboundMessage[] {
  return events.flatMap((e) => (e.type === 'incomplete' ? [e.message] : []));
}
function errorsOf(events: AstmEvent[]): ProtocolError[] {
  return events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
}
function sendsOf(events: AstmEvent[]): Buffer[] {
  return events.flatMap((e) => (e.type === 'send' ? [e.bytes] : []));
}

type SettleWith = boolean | 'manual' | (() => boolean);

/** One session driven by hand: bytes in with `feed`, everything it emitted in `events`. */
function harness(
  settleWith: SettleWith = true,
  options: Partial<Omit<AstmSessionOptions, 'clock' | 'onEvent'>> = {},
) {
  const clock = new FakeClock();
  const events: AstmEvent[] = [];
  const session: AstmSession = new AstmSession({
    clock,
    role: 'host',
    ...options,
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'messages' && settleWith !== 'manual') {
        session.settle(typeof settleWith === 'function' ? settleWith() : settleWith);
      }
    },
  });
  let seen = 0;
  return {
    clock,
    session,
    events,
    feed(...chunks: (string | Buffer)[]): void {
      for (const chunk of chunks) session.receive(typeof chunk === 'string' ? bytes(chunk) : chunk);
    },
    replies: (): string[] => sendsOf(events).map(wireName),
    /** Names of what was sent since the last call. */
    newReplies(): string[] {
      const fresh = sendsOf(events.slice(seen)).map(wireName);
      seen = events.length;
      return fresh;
    },
    texts: (): string[] => messagesOf(events).map((m) => latin1(m.text)),
    incomplete: (): AstmInboundMessage[] => incompleteOf(events),
    codes: (): string[] => errorsOf(events).map((e) => e.code),
    errors: (): ProtocolError[] => errorsOf(events),
    states: (): string[] => events.flatMap((e) => (e.type === 'state' ? [e.state] : [])),
  };
}

describe('AstmSession receiving', () => {
  it('takes the worked session whole: one message, ACK for ENQ and every frame', () => {
    const h = harness();
    const start = h.clock.now();
    h.feed(SESSION);
    const [message, ...others] = messagesOf(h.events);
    expect(others).toEqual([]);
    expect(latin1(message!.text)).toBe(TEXT);
    expect(latin1(message!.raw)).toBe(FRAMES.map((f) => f.slice(0, -2)).join(''));
    expect(message).toMatchObject({
      frames: 5,
      terminated: 'L',
      errors: [],
      startedAt: start,
      completedAt: start,
    });
    expect(h.replies()).toEqual(ACKS(6));
    expect(h.states()).toEqual(['receiving', 'neutral']);
    expect(h.codes()).toEqual([]);
    expect(h.session.state).toBe('neutral');
  });

  it('gives the same result split at every byte offset and one byte at a time', () => {
    const data = bytes(SESSION);
    const runs: Buffer[][] = [[...data].map((b) => Buffer.of(b))];
    for (let at = 0; at <= data.length; at++) runs.push([data.subarray(0, at), data.subarray(at)]);
    for (const chunks of runs) {
      const h = harness();
      h.feed(...chunks);
      expect(h.texts()).toEqual([TEXT]);
      expect(h.replies()).toEqual(ACKS(6));
      expect(h.incomplete()).toEqual([]);
    }
  });

  it('records the time of the first and the last frame', () => {
    const h = harness();
    const start = h.clock.now();
    h.feed(ENQ, FRAMES[0]!);
    h.clock.advance(2000);
    h.feed(FRAMES[1]!, FRAMES[2]!, FRAMES[3]!);
    h.clock.advance(3000);
    h.feed(FRAMES[4]!);
    expect(messagesOf(h.events)[0]).toMatchObject({ startedAt: start, completedAt: start + 5000 });
  });

  it('takes a whole message packed in one frame', () => {
    const h = harness();
    h.feed(ENQ + PACKED + EOT);
    expect(h.texts()).toEqual([TEXT]);
    expect(messagesOf(h.events)[0]!.frames).toBe(1);
    expect(h.replies()).toEqual(ACKS(2));
  });

  it('joins a record split mid-record by an ETB frame', () => {
    const h = harness();
    h.feed(
      ENQ,
      FRAMES[0]!,
      FRAMES[1]!,
      `${STX}3R|1|^^^GLU${ETB}C7${CR}${LF}`,
      `${STX}4|5.4|mmol/L${CR}${ETX}03${CR}${LF}`,
      FRAMES[4]!,
      EOT,
    );
    expect(h.texts()).toEqual([
      `${HEADER}${CR}${PATIENT}${CR}R|1|^^^GLU|5.4|mmol/L${CR}L|1|N${CR}`,
    ]);
    expect(h.replies()).toEqual(ACKS(6));
  });

  it('joins records that each end with ETB, frames ending C1 C2 LF, junk before STX', () => {
    const h = harness();
    const frames = [HEADER, PATIENT, ORDER, RESULT].map((r, i) =>
      frame(i + 1, r + CR, false).replace(CR + LF, LF),
    );
    h.feed(ENQ, 'noise', ...frames, `\r\n${FRAMES[4]!.replace(CR + LF, LF)}`, EOT);
    expect(h.texts()).toEqual([TEXT]);
    expect(h.replies()).toEqual(ACKS(6));
  });

  it('follows frame numbers 7 → 0 → 1', () => {
    const h = harness();
    const results = [1, 2, 3, 4, 5].map((i) => frame(i + 1, `R|${i}|^^^T${i}|${i}${CR}`));
    h.feed(
      ENQ,
      FRAMES[0]!,
      ...results,
      `${STX}7R|6|^^^T6|6${CR}${ETX}1D${CR}${LF}`,
      `${STX}0R|7|^^^T7|7${CR}${ETX}19${CR}${LF}`,
      `${STX}1L|1|N${CR}${ETX}04${CR}${LF}`,
      EOT,
    );
    const records = [HEADER, ...[1, 2, 3, 4, 5, 6, 7].map((i) => `R|${i}|^^^T${i}|${i}`), 'L|1|N'];
    expect(h.texts()).toEqual([records.map((r) => r + CR).join('')]);
    expect(h.replies()).toEqual(ACKS(10));
  });

  it('NAKs the corrupted frame, then ACKs the good retransmission', () => {
    const h = harness();
    h.feed(ENQ, FRAMES[0]!, CORRUPTED_PATIENT);
    expect(h.replies()).toEqual(['ACK', 'ACK', 'NAK']);
    expect(h.errors()).toEqual([
      {
        code: 'ASTM_BAD_CHECKSUM',
        message: expect.stringMatching(/^frame 2: checksum expected 33, got 57\b/),
      },
    ]);
    h.feed(...FRAMES.slice(1), EOT);
    expect(h.replies()).toEqual(['ACK', 'ACK', 'NAK', 'ACK', 'ACK', 'ACK', 'ACK']);
    expect(h.texts()).toEqual([TEXT]);
    expect(messagesOf(h.events)[0]!.errors.map((e) => e.code)).toEqual(['ASTM_BAD_CHECKSUM']);
  });

  it('ACKs a repeated frame (lost ACK) without taking its text twice', () => {
    const h = harness();
    h.feed(ENQ, FRAMES[0]!, FRAMES[1]!, FRAMES[1]!, ...FRAMES.slice(2), EOT);
    expect(h.replies()).toEqual(ACKS(7));
    expect(h.texts()).toEqual([TEXT]);
    expect(h.codes()).toEqual(['ASTM_DUPLICATE_FRAME']);
    expect(h.errors()[0]!.message).toMatch(/^frame 2 /);
  });

  it('NAKs a frame number that is neither the last accepted nor the next', () => {
    const h = harness();
    h.feed(ENQ, FRAMES[0]!, FRAMES[2]!);
    expect(h.replies()).toEqual(['ACK', 'ACK', 'NAK']);
    expect(h.errors()).toEqual([
      {
        code: 'ASTM_BAD_FRAME_NUMBER',
        message: expect.stringMatching(/^frame 3 received, expected frame 2\b/),
      },
    ]);
    h.feed(...FRAMES.slice(1), EOT);
    expect(h.texts()).toEqual([TEXT]);
  });

  it('NAKs a first frame numbered 0: only 1 may follow ENQ', () => {
    const h = harness();
    h.feed(ENQ, frame(0, HEADER + CR));
    expect(h.replies()).toEqual(['ACK', 'NAK']);
    expect(h.codes()).toEqual(['ASTM_BAD_FRAME_NUMBER']);
  });

  it('NAKs a frame whose number is not a digit 0-7', () => {
    const h = harness();
    h.feed(ENQ, FRAMES[0]!.replace(`${STX}1`, `${STX}A`), FRAMES[0]!.replace(`${STX}1`, `${STX}9`));
    expect(h.replies()).toEqual(['ACK', 'NAK', 'NAK']);
    expect(h.errors().map((e) => e.message)).toEqual([
      expect.stringContaining('frame number "A"'),
      expect.stringContaining('frame number "9"'),
    ]);
  });

  it('accepts a lowercase checksum', () => {
    const h = harness();
    h.feed(
      ENQ,
      FRAMES[0]!.replace('8D', '8d'),
      ...FRAMES.slice(1, 2),
      FRAMES[2]!.replace('C4', 'c4'),
    );
    h.feed(...FRAMES.slice(3), EOT);
    expect(h.texts()).toEqual([TEXT]);
    expect(h.replies()).toEqual(ACKS(6));
  });

  it('NAKs a frame with a restricted character even when its checksum is right', () => {
    const h = harness();
    h.feed(ENQ, frame(1, `H|\\^&${LF}${CR}`), frame(1, `H|\\^&\x10${CR}`));
    expect(h.replies()).toEqual(['ACK', 'NAK', 'NAK']);
    expect(h.errors()).toEqual([
      {
        code: 'ASTM_RESTRICTED_CHARACTER',
        message: expect.stringContaining('frame 1: restricted character LF'),
      },
      { code: 'ASTM_RESTRICTED_CHARACTER', message: expect.stringContaining('0x10') },
    ]);
  });

  it('NAKs a frame longer than the limit and takes the next one', () => {
    const h = harness(true, { maxFrameText: 100 });
    h.feed(ENQ, frame(1, 'H|' + 'x'.repeat(200) + CR), FRAMES[0]!);
    expect(h.replies()).toEqual(['ACK', 'NAK', 'ACK']);
    expect(h.errors()).toEqual([
      { code: 'ASTM_FRAME_TOO_LARGE', message: expect.stringContaining('limit of 100 text bytes') },
      { code: 'ASTM_FRAME_TOO_LARGE', message: expect.stringContaining('203 text bytes') },
    ]);
  });

  it('NAKs a frame that would make the message longer than maxMessageText', () => {
    const h = harness(true, { maxMessageText: 120 });
    h.feed(ENQ, FRAMES[0]!, FRAMES[1]!, FRAMES[2]!);
    expect(h.replies()).toEqual(['ACK', 'ACK', 'ACK', 'NAK']);
    expect(h.errors()).toEqual([
      {
        code: 'ASTM_MESSAGE_TOO_LARGE',
        message: expect.stringContaining('frame 3 would make the message longer than 120 bytes'),
      },
    ]);
    h.feed(EOT);
    expect(h.incomplete().map((m) => latin1(m.text))).toEqual([HEADER + CR + PATIENT + CR]);
    h.feed(ENQ, FRAMES[0]!, FRAMES[1]!);
    expect(h.replies().slice(-3)).toEqual(ACKS(3)); // the limit counts per message
  });

  it('does not answer a frame cut short: what cut it gets the reply', () => {
    const h = harness();
    h.feed(ENQ, FRAMES[0]!, `${STX}2P|1||PI`, FRAMES[1]!);
    expect(h.replies()).toEqual(['ACK', 'ACK', 'ACK']);
    expect(h.codes()).toEqual(['ASTM_BAD_FRAME']);
  });

  it('emits two messages H..L H..L of one ENQ session, in separate frames or one frame', () => {
    const second = [HEADER, 'Q|1|^SID001||ALL||||||||O', 'L|1|N'];
    const h = harness();
    h.feed(ENQ, ...FRAMES, ...second.map((r, i) => frame((i + 6) % 8, r + CR)), EOT);
    const secondText = second.map((r) => r + CR).join('');
    expect(h.texts()).toEqual([TEXT, secondText]);
    expect(h.events.filter((e) => e.type === 'messages')).toHaveLength(2);
    expect(h.replies()).toEqual(ACKS(9));

    const packed = harness();
    packed.feed(ENQ, frame(1, TEXT + secondText), EOT);
    expect(packed.events.filter((e) => e.type === 'messages')).toEqual([
      { type: 'messages', messages: [expect.anything(), expect.anything()] },
    ]);
    expect(packed.texts()).toEqual([TEXT, secondText]);
    expect(packed.replies()).toEqual(ACKS(2));
  });

  it('ends a message at a lowercase l record and starts the next inside the same frame', () => {
    const h = harness();
    h.feed(ENQ, frame(1, `H|\\^&${CR}l|1${CR}H|\\^&${CR}`), frame(2, `l|1${CR}`), EOT);
    expect(h.texts()).toEqual([`H|\\^&${CR}l|1${CR}`, `H|\\^&${CR}l|1${CR}`]);
    const [first, second] = messagesOf(h.events);
    expect(first!.frames).toBe(1);
    expect(second!.frames).toBe(2);
    expect(latin1(second!.raw)).toBe(
      frame(1, `H|\\^&${CR}l|1${CR}H|\\^&${CR}`).slice(0, -2) + frame(2, `l|1${CR}`).slice(0, -2),
    );
  });

  it('keeps a single byte that follows the L record in the same frame', () => {
    const h = harness();
    h.feed(ENQ, frame(1, `H|\\^&${CR}L|1${CR}H`), frame(2, `|\\^&${CR}L|1${CR}`), EOT);
    expect(h.texts()).toEqual([`H|\\^&${CR}L|1${CR}`, `H|\\^&${CR}L|1${CR}`]);
  });

  it('does not take an L inside a record, or a record split after its L, as the end', () => {
    const h = harness();
    h.feed(ENQ, frame(1, `H|\\^&${CR}C|1|L|x${CR}L`), frame(2, `|1|N`, false), frame(3, CR));
    expect(h.texts()).toEqual([`H|\\^&${CR}C|1|L|x${CR}L|1|N${CR}`]);
  });

  describe('persist before acknowledge', () => {
    it('holds the ACK of the completing frame until settle(true)', () => {
      const h = harness('manual');
      h.feed(ENQ, ...FRAMES);
      expect(h.replies()).toEqual(ACKS(5));
      expect(h.events.at(-1)).toMatchObject({ type: 'messages' });
      h.clock.advance(60_000); // the receiver timer does not run while the ACK is held
      expect(h.replies()).toEqual(ACKS(5));
      h.session.settle(true);
      expect(h.replies()).toEqual(ACKS(6));
      h.feed(EOT);
      expect(h.texts()).toEqual([TEXT]);
    });

    it('NAKs on settle(false) and emits the same message again from the retransmission', () => {
      const h = harness('manual');
      h.feed(ENQ, ...FRAMES);
      h.session.settle(false);
      expect(h.replies()).toEqual([...ACKS(5), 'NAK']);
      expect(h.codes()).toEqual(['ASTM_STORAGE_FAILED']);
      h.feed(FRAMES[4]!);
      expect(h.events.filter((e) => e.type === 'messages')).toHaveLength(2);
      h.session.settle(true);
      h.feed(EOT);
      expect(h.replies()).toEqual([...ACKS(5), 'NAK', 'ACK']);
      const [first, second] = messagesOf(h.events);
      // The same message, its last frame now the one sent again, further on in the stream.
      expect({ ...second, ranges: [] }).toEqual({ ...first, ranges: [] });
      expect(second!.ranges.slice(0, -1)).toEqual(first!.ranges.slice(0, -1));
      const streamLength = bytes(ENQ + FRAMES.join('')).length;
      expect(second!.ranges.at(-1)).toEqual([streamLength, first!.ranges.at(-1)![1]]);
      expect(latin1(second!.text)).toBe(TEXT);
    });

    it('rolls back a frame that ended one message and began the next', () => {
      const h = harness('manual');
      h.feed(ENQ, frame(1, `H|\\^&${CR}L|1${CR}H|\\^&${CR}`));
      h.session.settle(false);
      h.feed(frame(1, `H|\\^&${CR}L|1${CR}H|\\^&${CR}`));
      h.session.settle(true);
      h.feed(frame(2, `L|1${CR}`));
      h.session.settle(true);
      expect(h.texts()).toEqual([
        `H|\\^&${CR}L|1${CR}`,
        `H|\\^&${CR}L|1${CR}`,
        `H|\\^&${CR}L|1${CR}`,
      ]);
      expect(h.replies()).toEqual(['ACK', 'NAK', 'ACK', 'ACK']);
    });

    it('settles synchronously from inside the listener', () => {
      let inside = false;
      const h = harness(() => {
        inside = true;
        return true;
      });
      h.feed(ENQ + FRAMES.join(''));
      expect(inside).toBe(true);
      expect(h.replies()).toEqual(ACKS(6));
      // the ACK comes after the messages event
      const kinds = h.events.map((e) => e.type);
      expect(kinds.lastIndexOf('send')).toBeGreaterThan(kinds.indexOf('messages'));
    });

    it('ignores frames while the ACK is held, and a settle that comes after EOT', () => {
      const h = harness('manual');
      h.feed(ENQ, ...FRAMES, FRAMES[4]!);
      expect(h.replies()).toEqual(ACKS(5));
      expect(h.codes()).toEqual(['ASTM_UNEXPECTED_BYTE']);
      h.feed(EOT); // the sender gave up waiting
      h.feed(ENQ, ...FRAMES); // and sent the message again
      expect(h.replies()).toEqual([...ACKS(5), ...ACKS(5)]);
      h.session.settle(true); // late answer for the first message: nothing to send
      expect(h.replies()).toEqual(ACKS(10));
      h.session.settle(true); // answer for the second
      expect(h.replies()).toEqual(ACKS(11));
    });
  });

  describe('ending early', () => {
    it('keeps a partial message as incomplete after the 30 s receiver timeout', () => {
      const h = harness();
      h.feed(ENQ, FRAMES[0]!);
      h.clock.advance(20_000);
      h.feed(FRAMES[1]!); // each reply restarts the 30 s
      h.clock.advance(29_999);
      expect(h.incomplete()).toEqual([]);
      h.clock.advance(1);
      const [message] = h.incomplete();
      expect(latin1(message!.text)).toBe(HEADER + CR + PATIENT + CR);
      expect(message!.terminated).toBe('timeout');
      expect(message!.errors.map((e) => e.code)).toEqual(['ASTM_RECEIVER_TIMEOUT']);
      expect(h.codes()).toEqual(['ASTM_RECEIVER_TIMEOUT']);
      expect(h.session.state).toBe('neutral');
      expect(h.clock.timers).toBe(0);
      h.feed(SESSION);
      expect(h.texts()).toEqual([TEXT]);
    });

    it('times out to neutral without an incomplete message when nothing was received', () => {
      const h = harness();
      h.feed(ENQ);
      h.clock.advance(30_000);
      expect(h.incomplete()).toEqual([]);
      expect(h.codes()).toEqual(['ASTM_RECEIVER_TIMEOUT']);
      expect(h.session.state).toBe('neutral');
    });

    it('drops a partial frame at the receiver timeout', () => {
      const h = harness();
      h.feed(ENQ, FRAMES[0]!, FRAMES[1]!.slice(0, 10));
      h.clock.advance(30_000);
      h.feed(FRAMES[1]!.slice(10), SESSION);
      expect(h.texts()).toEqual([TEXT]);
    });

    it('keeps records sent before an EOT without L as incomplete', () => {
      const h = harness();
      h.feed(ENQ, ...FRAMES.slice(0, 3), EOT);
      const [message] = h.incomplete();
      expect(latin1(message!.text)).toBe(HEADER + CR + PATIENT + CR + ORDER + CR);
      expect(message).toMatchObject({ terminated: 'EOT', frames: 3 });
      expect(message!.errors.map((e) => e.code)).toEqual(['ASTM_INCOMPLETE_MESSAGE']);
      expect(h.texts()).toEqual([]);
      expect(h.session.state).toBe('neutral');
    });

    it('keeps the part after the last L as incomplete at EOT', () => {
      const h = harness();
      h.feed(ENQ, ...FRAMES, frame(6, HEADER + CR), EOT);
      expect(h.texts()).toEqual([TEXT]);
      expect(h.incomplete().map((m) => latin1(m.text))).toEqual([HEADER + CR]);
    });

    it('treats an ENQ while receiving as a new session: the partial message is kept', () => {
      const h = harness();
      h.feed(ENQ, FRAMES[0]!, SESSION);
      expect(h.incomplete().map((m) => [latin1(m.text), m.terminated])).toEqual([
        [HEADER + CR, 'ENQ'],
      ]);
      expect(h.texts()).toEqual([TEXT]);
      expect(h.replies()).toEqual(ACKS(8));
    });

    it('flushes the partial message as incomplete on close and then stays silent', () => {
      const h = harness();
      h.feed(ENQ, FRAMES[0]!);
      h.session.close();
      expect(h.incomplete().map((m) => m.terminated)).toEqual(['closed']);
      expect(h.session.state).toBe('closed');
      expect(h.clock.timers).toBe(0);
      const before = h.events.length;
      h.feed(SESSION);
      h.session.close();
      expect(h.events.length).toBe(before);
    });
  });

  it('answers NAK to ENQ while busy, ACK again when no longer busy', () => {
    const h = harness();
    h.session.busy = true;
    h.feed(ENQ);
    expect(h.replies()).toEqual(['NAK']);
    expect(h.codes()).toEqual(['ASTM_BUSY']);
    expect(h.session.state).toBe('neutral');
    h.session.busy = false;
    h.feed(SESSION);
    expect(h.replies()).toEqual(['NAK', ...ACKS(6)]);
    expect(h.texts()).toEqual([TEXT]);
  });

  it('ignores frames and replies while idle', () => {
    const h = harness();
    h.feed(FRAMES[0]!, ACK, NAK, EOT);
    expect(h.replies()).toEqual([]);
    expect(h.codes()).toEqual([
      'ASTM_UNEXPECTED_BYTE',
      'ASTM_UNEXPECTED_BYTE',
      'ASTM_UNEXPECTED_BYTE',
    ]);
    h.feed(SESSION);
    expect(h.texts()).toEqual([TEXT]);
  });

  it('answers an ENQ that arrives with the end of a session before sending its own', () => {
    const h = harness();
    h.feed(ENQ, ...FRAMES);
    h.session.send([bytes(HEADER), bytes('L|1|N')], 'answer');
    expect(h.newReplies()).toEqual(ACKS(6));
    h.feed(EOT + ENQ);
    expect(h.newReplies()).toEqual(['ACK']);
    expect(h.session.state).toBe('receiving');
    h.feed(EOT);
    expect(h.newReplies()).toEqual(['ENQ']);
  });
});

describe('AstmSession called back from its listener', () => {
  it('works when each side writes straight into the other inside onEvent', () => {
    const clock = new FakeClock();
    const texts: Record<AstmRole, string[]> = { host: [], instrument: [] };
    const delivered: string[] = [];
    const sessions = {} as Record<AstmRole, AstmSession>;
    for (const side of ['host', 'instrument'] as const) {
      sessions[side] = new AstmSession({
        clock,
        role: side,
        onEvent: (event) => {
          const peer = sessions[side === 'host' ? 'instrument' : 'host'];
          if (event.type === 'send') peer.receive(event.bytes);
          if (event.type === 'messages') {
            texts[side].push(...event.messages.map((m) => latin1(m.text)));
            sessions[side].settle(true);
          }
          if (event.type === 'delivered') delivered.push(event.id);
        },
      });
    }
    const results = resultMessage(20);
    const answer = [HEADER, 'L|1|I'].map(bytes);
    sessions.instrument.send(results, 'results');
    sessions.host.send(answer, 'answer');
    expect(texts.host).toEqual([textOf(results)]);
    expect(texts.instrument).toEqual([textOf(answer)]);
    expect(delivered).toEqual(['results', 'answer']);
    expect([sessions.host.state, sessions.instrument.state]).toEqual(['neutral', 'neutral']);
  });

  it('stops handling a chunk when the listener closes the session', () => {
    const events: AstmEvent[] = [];
    const session: AstmSession = new AstmSession({
      clock: new FakeClock(),
      role: 'host',
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'error') session.close();
      },
    });
    session.receive(bytes(ENQ + FRAMES[0]! + CORRUPTED_PATIENT + FRAMES.slice(1).join('') + EOT));
    expect(sendsOf(events).map(wireName)).toEqual(['ACK', 'ACK', 'NAK']);
    expect(messagesOf(events)).toEqual([]);
    expect(incompleteOf(events).map((m) => [latin1(m.text), m.terminated])).toEqual([
      [HEADER + CR, 'closed'],
    ]);
    expect(session.state).toBe('closed');
  });
});

// ── two sessions on one in-memory line ─────────────────────────────────────────

type Side = AstmRole;
const other = (side: Side): Side => (side === 'host' ? 'instrument' : 'host');

interface LineOptions {
  /** What reaches the other side of each chunk one side sends: the default passes it on. */
  middle?: (from: Side, data: Buffer) => Buffer[];
  host?: Partial<Omit<AstmSessionOptions, 'clock' | 'onEvent' | 'role'>>;
  instrument?: Partial<Omit<AstmSessionOptions, 'clock' | 'onEvent' | 'role'>>;
}

interface Logged {
  side: Side;
  at: number;
  event: AstmEvent;
}

/** A host and an instrument session wired to each other through `middle`, on a fake clock. */
function line(options: LineOptions = {}) {
  const clock = new FakeClock();
  const start = clock.now();
  const log: Logged[] = [];
  const latency = 1; // ms each way
  const sessions = {} as Record<Side, AstmSession>;
  for (const side of ['host', 'instrument'] as const) {
    sessions[side] = new AstmSession({
      clock,
      role: side,
      ...options[side],
      onEvent: (event) => {
        log.push({ side, at: clock.now() - start, event });
        if (event.type === 'send') {
          const chunks = options.middle ? options.middle(side, event.bytes) : [event.bytes];
          for (const chunk of chunks) {
            clock.schedule(latency, () => sessions[other(side)].receive(chunk));
          }
        } else if (event.type === 'messages') {
          sessions[side].settle(true);
        }
      },
    });
  }
  const of = (side: Side) => log.filter((l) => l.side === side);
  return {
    clock,
    host: sessions.host,
    instrument: sessions.instrument,
    log,
    /** Advances the fake time by `ms`, delivering bytes and firing timers on the way. */
    run: (ms = 0) => clock.advance(ms),
    /** What `side` wrote, as names, with the time (ms since start). */
    wire: (side: Side) =>
      of(side).flatMap((l) =>
        l.event.type === 'send' ? [[l.at, wireName(l.event.bytes)] as const] : [],
      ),
    sent: (side: Side) => sendsOf(of(side).map((l) => l.event)),
    texts: (side: Side) => messagesOf(of(side).map((l) => l.event)).map((m) => latin1(m.text)),
    incomplete: (side: Side) => incompleteOf(of(side).map((l) => l.event)),
    codes: (side: Side) => errorsOf(of(side).map((l) => l.event)).map((e) => e.code),
    delivered: (side: Side) =>
      of(side).flatMap((l) => (l.event.type === 'delivered' ? [l.event.id] : [])),
    failures: (side: Side) =>
      of(side).flatMap((l) =>
        l.event.type === 'deliveryFailed' ? [{ at: l.at, ...l.event }] : [],
      ),
  };
}

/** Frames in what one side sent, in order. */
function framesIn(chunks: Buffer[]): ReceivedFrame[] {
  const scanner = new FrameScanner();
  const frames: ReceivedFrame[] = [];
  for (const chunk of chunks) {
    for (const item of scanner.push(chunk)) if (item.kind === 'frame') frames.push(item.frame);
  }
  return frames;
}

const isFrame = (data: Buffer): boolean => data.length > 1 && data[0] === 0x02;

/** A copy of a frame with one text byte changed, so its checksum no longer matches. */
function garble(data: Buffer): Buffer {
  const copy = Buffer.from(data);
  copy[3] = copy[3]! ^ 0x01;
  return copy;
}

/** A message of `results` R records, every third one longer than a 240-byte frame. */
function resultMessage(results: number, sample = 'SID001'): Buffer[] {
  const records = [HEADER, PATIENT, `O|1|${sample}||^^^GLU|R`];
  for (let i = 1; i <= results; i++) {
    const comment = i % 3 === 0 ? `|${'histogram-'.repeat(60)}` : '';
    records.push(`R|${i}|^^^T${i}|${i}.0|mmol/L||N||F${comment}`);
  }
  records.push('L|1|N');
  return records.map(bytes);
}
const textOf = (records: Buffer[]): string => records.map((r) => latin1(r) + CR).join('');

describe('AstmSession transport between two sessions', () => {
  it('delivers a long message byte-exact: ETB splits, frame numbers wrapping 7 → 0', () => {
    const t = line();
    const records = resultMessage(12);
    t.instrument.send(records, 'm1');
    expect(t.instrument.pendingOutbound).toBe(1);
    t.run(1000);
    expect(t.texts('host')).toEqual([textOf(records)]);
    expect(t.delivered('instrument')).toEqual(['m1']);
    expect(t.instrument.pendingOutbound).toBe(0);
    const frames = framesIn(t.sent('instrument'));
    expect(frames.length).toBeGreaterThan(16);
    expect(frames.map((f) => f.number)).toEqual(frames.map((_, i) => (i + 1) % 8));
    expect(frames.some((f) => !f.final)).toBe(true);
    expect(Math.max(...frames.map((f) => f.text.length))).toBe(240);
    expect(t.wire('host').every(([, name]) => name === 'ACK')).toBe(true);
    expect(
      t
        .wire('instrument')
        .map(([, name]) => name)
        .at(-1),
    ).toBe('EOT');
    expect(t.codes('host')).toEqual([]);
    expect(t.codes('instrument')).toEqual([]);
    expect([t.host.state, t.instrument.state]).toEqual(['neutral', 'neutral']);
    expect(t.clock.timers).toBe(0);
  });

  it('sends queued messages one ENQ session each, frame numbers starting at 1 each time', () => {
    const t = line({ instrument: { sendFrameText: 20 } });
    const messages = [resultMessage(1, 'A'), resultMessage(2, 'B'), resultMessage(3, 'C')];
    messages.forEach((m, i) => t.instrument.send(m, `m${i + 1}`));
    expect(t.instrument.pendingOutbound).toBe(3);
    t.run(1000);
    expect(t.texts('host')).toEqual(messages.map(textOf));
    expect(t.delivered('instrument')).toEqual(['m1', 'm2', 'm3']);
    const sent = t.sent('instrument');
    const afterEnq = sent.flatMap((b, i) => (b[0] === 0x05 ? [sent[i + 1]!] : []));
    expect(afterEnq.map(wireName)).toEqual(['frame 1', 'frame 1', 'frame 1']);
  });

  it('lets the host send to the instrument the same way', () => {
    const t = line();
    const answer = [HEADER, 'P|1', 'O|1|SID001||^^^GLU|R||||||||||||||||||||Q', 'L|1|F'].map(bytes);
    t.host.send(answer, 'q1');
    t.run(100);
    expect(t.texts('instrument')).toEqual([textOf(answer)]);
    expect(t.delivered('host')).toEqual(['q1']);
  });

  it('resends a frame the receiver NAKed', () => {
    let frames = 0;
    const t = line({
      middle: (from, data) =>
        from === 'instrument' && isFrame(data) && ++frames === 3 ? [garble(data)] : [data],
    });
    const records = resultMessage(3);
    t.instrument.send(records, 'm1');
    t.run(1000);
    const transmissions = framesIn(t.sent('instrument')).length; // 9 frames, one sent twice
    expect(transmissions).toBe(10);
    expect(t.wire('host').map(([, n]) => n)).toEqual(['ACK', 'ACK', 'ACK', 'NAK', ...ACKS(7)]);
    expect(t.codes('host')).toEqual(['ASTM_BAD_CHECKSUM']);
    expect(t.codes('instrument')).toEqual(['ASTM_FRAME_REJECTED']);
    const sentNumbers = framesIn(t.sent('instrument')).map((f) => f.number);
    expect(sentNumbers.slice(0, 4)).toEqual([1, 2, 3, 3]);
    expect(t.texts('host')).toEqual([textOf(records)]);
    expect(t.delivered('instrument')).toEqual(['m1']);
  });

  it('gives up after 6 transmissions of a frame, sends EOT, retries the whole message 15 s later', () => {
    let garbled = 0;
    const t = line({
      middle: (from, data) =>
        from === 'instrument' && isFrame(data) && data[1] === 0x32 && garbled < 6
          ? (garbled++, [garble(data)])
          : [data],
    });
    const records = resultMessage(2);
    t.instrument.send(records, 'm1');
    t.run(100);
    const first = t.wire('instrument').map(([, n]) => n);
    expect(first).toEqual(['ENQ', 'frame 1', ...Array(6).fill('frame 2'), 'EOT']);
    const [failure] = t.failures('instrument');
    expect(failure).toMatchObject({
      id: 'm1',
      willRetry: true,
      error: { code: 'ASTM_RETRIES_EXHAUSTED' },
    });
    expect(failure!.error.message).toContain('frame 2 refused 6 times');
    expect(t.instrument.pendingOutbound).toBe(1);
    expect(t.incomplete('host').map((m) => [latin1(m.text), m.terminated])).toEqual([
      [HEADER + CR, 'EOT'],
    ]);

    t.run(15_000 - 100 - 1 + failure!.at);
    expect(t.wire('instrument')).toHaveLength(first.length);
    t.run(100);
    const retry = t.wire('instrument').slice(first.length);
    expect(retry[0]).toEqual([failure!.at + 15_000, 'ENQ']);
    expect(retry.map(([, n]) => n)).toEqual([
      'ENQ',
      ...records.map((_, i) => `frame ${(i + 1) % 8}`),
      'EOT',
    ]);
    expect(t.texts('host')).toEqual([textOf(records)]);
    expect(t.delivered('instrument')).toEqual(['m1']);
  });

  it('recovers from a garbled ACK: the receiver sees the repeated frame and keeps it once', () => {
    let acks = 0;
    const t = line({
      middle: (from, data) =>
        from === 'host' && data[0] === 0x06 && ++acks === 3 ? [bytes(NAK)] : [data],
    });
    const records = resultMessage(2);
    t.instrument.send(records, 'm1');
    t.run(100);
    expect(t.codes('host')).toEqual(['ASTM_DUPLICATE_FRAME']);
    expect(
      framesIn(t.sent('instrument'))
        .map((f) => f.number)
        .slice(0, 4),
    ).toEqual([1, 2, 2, 3]);
    expect(t.texts('host')).toEqual([textOf(records)]);
    expect(t.delivered('instrument')).toEqual(['m1']);
  });

  it('waits 15 s for a lost ACK, ends with EOT and delivers on the retry', () => {
    let acks = 0;
    const t = line({
      middle: (from, data) => (from === 'host' && data[0] === 0x06 && ++acks === 3 ? [] : [data]),
    });
    const records = resultMessage(2);
    t.instrument.send(records, 'm1');
    t.run(14_000);
    expect(t.wire('instrument').at(-1)![1]).toBe('frame 2');
    t.run(1_100);
    const [failure] = t.failures('instrument');
    expect(failure).toMatchObject({ willRetry: true, error: { code: 'ASTM_SENDER_TIMEOUT' } });
    expect(failure!.error.message).toContain('no reply to frame 2 within 15 s');
    expect(t.wire('instrument').at(-1)).toEqual([failure!.at, 'EOT']);
    expect(t.incomplete('host').map((m) => m.frames)).toEqual([2]);
    t.run(20_000);
    expect(t.texts('host')).toEqual([textOf(records)]);
    expect(t.delivered('instrument')).toEqual(['m1']);
  });

  it('waits 15 s for the reply to ENQ, then EOT and a retry 15 s later', () => {
    let dropping = true;
    const t = line({ middle: (from, data) => (from === 'host' && dropping ? [] : [data]) });
    t.instrument.send(resultMessage(1), 'm1');
    t.run(14_999);
    expect(t.wire('instrument')).toEqual([[0, 'ENQ']]);
    t.run(1);
    expect(t.wire('instrument')).toEqual([
      [0, 'ENQ'],
      [15_000, 'EOT'],
    ]);
    expect(t.failures('instrument')[0]!.error.message).toContain('no reply to ENQ within 15 s');
    dropping = false;
    t.run(15_000);
    expect(t.wire('instrument')[2]).toEqual([30_000, 'ENQ']);
    t.run(100);
    expect(t.delivered('instrument')).toEqual(['m1']);
    expect(t.incomplete('host')).toEqual([]);
  });

  it('the receiver gives up 30 s after its last reply and keeps what it had', () => {
    let frames = 0;
    const t = line({
      middle: (from, data) =>
        from === 'instrument' &&
        (isFrame(data) ? ++frames >= 3 : frames >= 3) &&
        t.clock.now() - begin < 31_000
          ? []
          : [data],
    });
    const begin = t.clock.now();
    const records = resultMessage(2);
    t.instrument.send(records, 'm1');
    t.run(29_000);
    expect(t.incomplete('host')).toEqual([]);
    t.run(1_500);
    const lastAck = t.wire('host').at(-1)![0];
    const [partial] = t.incomplete('host');
    expect(partial).toMatchObject({ terminated: 'timeout', completedAt: begin + lastAck + 30_000 });
    expect(latin1(partial!.text)).toBe(textOf(records.slice(0, 2)));
    expect(t.codes('host')).toEqual(['ASTM_RECEIVER_TIMEOUT']);
    expect(t.host.state).toBe('neutral');
    t.run(120_000);
    expect(t.texts('host')).toEqual([textOf(records)]);
    expect(t.delivered('instrument')).toEqual(['m1']);
  });

  it('waits 10 s after a busy NAK before the next ENQ', () => {
    const t = line();
    t.host.busy = true;
    t.instrument.send(resultMessage(1), 'm1');
    t.run(15_000);
    t.host.busy = false;
    t.run(10_000);
    const enqs = t
      .wire('instrument')
      .filter(([, n]) => n === 'ENQ')
      .map(([at]) => at);
    expect(enqs).toEqual([0, 10_002, 20_004]);
    expect(
      t
        .wire('host')
        .slice(0, 2)
        .map(([, n]) => n),
    ).toEqual(['NAK', 'NAK']);
    expect(t.codes('instrument').slice(0, 2)).toEqual(['ASTM_BUSY', 'ASTM_BUSY']);
    expect(t.delivered('instrument')).toEqual(['m1']);
    expect(t.failures('instrument')).toEqual([]);
  });

  it('resolves contention: the host yields, the instrument sends ENQ again after 1 s, then the host sends', () => {
    const t = line();
    const query = [HEADER, 'Q|1|^SID001||ALL||||||||O', 'L|1|N'].map(bytes);
    const answer = [HEADER, 'L|1|I'].map(bytes);
    t.host.send(answer, 'from-host');
    t.instrument.send(query, 'from-instrument');
    t.run(5_000);
    expect(t.codes('host')).toEqual(['ASTM_CONTENTION']);
    expect(t.codes('instrument')).toEqual(['ASTM_CONTENTION']);
    // Both ENQs cross at 1 ms; the instrument tries again 1 s later and the host answers it.
    expect(t.wire('host').slice(0, 2)).toEqual([
      [0, 'ENQ'],
      [1_002, 'ACK'],
    ]);
    expect(t.wire('instrument').slice(0, 2)).toEqual([
      [0, 'ENQ'],
      [1_001, 'ENQ'],
    ]);
    expect(t.texts('host')).toEqual([textOf(query)]);
    expect(t.texts('instrument')).toEqual([textOf(answer)]);
    expect(t.delivered('instrument')).toEqual(['from-instrument']);
    expect(t.delivered('host')).toEqual(['from-host']);
    const order = t.log.filter((l) => l.event.type === 'delivered').map((l) => l.side);
    expect(order).toEqual(['instrument', 'host']);
  });
});

/** One session whose peer is the test itself. */
const sender = (role: AstmRole) => harness(true, { role });

describe('AstmSession sending (peer played by hand)', () => {
  it('host: after contention, waits 20 s for the instrument, then sends ENQ again', () => {
    const h = sender('host');
    h.session.send(resultMessage(1), 'm1');
    expect(h.newReplies()).toEqual(['ENQ']);
    h.feed(ENQ);
    expect(h.newReplies()).toEqual([]); // the contending ENQ is not answered
    expect(h.session.state).toBe('neutral');
    h.clock.advance(19_999);
    expect(h.newReplies()).toEqual([]);
    h.clock.advance(1);
    expect(h.newReplies()).toEqual(['ENQ']);
  });

  it('host: answers the instrument\u2019s next ENQ and sends its own right after the EOT', () => {
    const h = sender('host');
    h.session.send(resultMessage(1), 'm1');
    h.feed(ENQ);
    expect(h.newReplies()).toEqual(['ENQ']);
    h.clock.advance(1_000);
    h.feed(ENQ);
    expect(h.newReplies()).toEqual(['ACK']);
    h.feed(...FRAMES);
    expect(h.newReplies()).toEqual(ACKS(5));
    h.feed(EOT);
    expect(h.newReplies()).toEqual(['ENQ']);
  });

  it('instrument: ignores the host\u2019s ENQ on contention and sends ENQ again after 1 s', () => {
    const h = sender('instrument');
    h.session.send(resultMessage(1), 'm1');
    h.feed(ENQ);
    expect(h.newReplies()).toEqual(['ENQ']);
    h.clock.advance(999);
    expect(h.newReplies()).toEqual([]);
    h.clock.advance(1);
    expect(h.newReplies()).toEqual(['ENQ']);
  });

  it('goes establishing → sending → neutral and reports delivery after its EOT', () => {
    const h = sender('instrument');
    h.session.send([bytes(HEADER), bytes('L|1|N')], 'm1');
    expect(h.session.state).toBe('establishing');
    h.feed(ACK);
    expect(h.session.state).toBe('sending');
    h.feed(ACK, ACK);
    expect(h.states()).toEqual(['establishing', 'sending', 'neutral']);
    expect(h.events.slice(-2)).toEqual([
      { type: 'send', bytes: bytes(EOT) },
      { type: 'delivered', id: 'm1' },
    ]);
    expect(h.clock.timers).toBe(0);
  });

  it('treats NAK, ENQ or a stray frame as NAK: the same frame again', () => {
    const h = sender('instrument');
    h.session.send(resultMessage(2), 'm1');
    h.feed(ACK, ACK);
    expect(h.newReplies()).toEqual(['ENQ', 'frame 1', 'frame 2']);
    h.feed(NAK);
    h.feed(ENQ);
    h.feed(FRAMES[0]!);
    expect(h.newReplies()).toEqual(['frame 2', 'frame 2', 'frame 2']);
    expect(h.codes()).toEqual([
      'ASTM_FRAME_REJECTED',
      'ASTM_UNEXPECTED_BYTE',
      'ASTM_UNEXPECTED_BYTE',
    ]);
  });

  it('ignores everything but ACK, NAK and ENQ while waiting for the reply to ENQ', () => {
    const h = sender('instrument');
    h.session.send(resultMessage(1), 'm1');
    h.feed(EOT, FRAMES[0]!, 'junk');
    expect(h.newReplies()).toEqual(['ENQ']);
    expect(h.session.state).toBe('establishing');
    h.feed(ACK);
    expect(h.newReplies()).toEqual(['frame 1']);
  });

  it('stops at a receiver interrupt (EOT), keeps the message and sends no ENQ for 15 s', () => {
    const h = sender('instrument');
    const records = resultMessage(2);
    h.session.send(records, 'm1');
    h.feed(ACK, ACK, EOT);
    expect(h.newReplies()).toEqual(['ENQ', 'frame 1', 'frame 2', 'EOT']);
    const failure = h.events.find((e) => e.type === 'deliveryFailed');
    expect(failure).toMatchObject({
      id: 'm1',
      willRetry: true,
      error: { code: 'ASTM_INTERRUPTED' },
    });
    expect(h.session.pendingOutbound).toBe(1);
    h.clock.advance(5_000);
    h.feed(ENQ, ...FRAMES); // the receiver now sends what it had to say
    h.clock.advance(1_000);
    h.feed(EOT);
    expect(h.newReplies()).toEqual(ACKS(6));
    h.clock.advance(8_999);
    expect(h.newReplies()).toEqual([]);
    h.clock.advance(1);
    expect(h.newReplies()).toEqual(['ENQ']);
    h.feed(ACK.repeat(records.length + 1));
    expect(h.newReplies()).toEqual([...records.map((_, i) => `frame ${(i + 1) % 8}`), 'EOT']);
    expect(h.events.filter((e) => e.type === 'delivered')).toEqual([
      { type: 'delivered', id: 'm1' },
    ]);
  });

  it('counts an EOT after the last frame as delivered, still holding ENQ for 15 s', () => {
    const h = sender('instrument');
    h.session.send([bytes(HEADER), bytes('L|1|N')], 'm1');
    h.session.send([bytes(HEADER), bytes('L|1|N')], 'm2');
    h.feed(ACK, ACK, EOT);
    expect(h.newReplies()).toEqual(['ENQ', 'frame 1', 'frame 2', 'EOT']);
    expect(h.events.filter((e) => e.type === 'delivered')).toEqual([
      { type: 'delivered', id: 'm1' },
    ]);
    expect(h.codes()).toEqual(['ASTM_INTERRUPTED']);
    h.clock.advance(14_999);
    expect(h.newReplies()).toEqual([]);
    h.clock.advance(1);
    expect(h.newReplies()).toEqual(['ENQ']);
  });

  it('answers an ENQ that comes with the last ACK before starting its next message', () => {
    const h = sender('instrument');
    h.session.send([bytes(HEADER), bytes('L|1|N')], 'm1');
    h.session.send([bytes(HEADER), bytes('L|1|N')], 'm2');
    h.feed(ACK, ACK);
    expect(h.newReplies()).toEqual(['ENQ', 'frame 1', 'frame 2']);
    h.feed(ACK + ENQ);
    expect(h.newReplies()).toEqual(['EOT', 'ACK']);
    expect(h.session.state).toBe('receiving');
    h.feed(PACKED, EOT);
    expect(h.newReplies()).toEqual(['ACK', 'ENQ']);
    expect(h.texts()).toEqual([TEXT]);
  });

  it('close() while sending: nothing more is sent, queued messages fail without retry', () => {
    const h = sender('instrument');
    h.session.send(resultMessage(2), 'm1');
    h.session.send(resultMessage(1), 'm2');
    h.feed(ACK);
    expect(h.newReplies()).toEqual(['ENQ', 'frame 1']);
    h.session.close();
    h.clock.advance(60_000);
    h.feed(ACK);
    expect(h.newReplies()).toEqual([]);
    expect(h.clock.timers).toBe(0);
    expect(
      h.events.flatMap((e) =>
        e.type === 'deliveryFailed' ? [[e.id, e.willRetry, e.error.code]] : [],
      ),
    ).toEqual([
      ['m1', false, 'ASTM_SESSION_CLOSED'],
      ['m2', false, 'ASTM_SESSION_CLOSED'],
    ]);
    expect(h.session.pendingOutbound).toBe(0);
    h.session.send(resultMessage(1), 'm3');
    expect(h.events.at(-1)).toMatchObject({ type: 'deliveryFailed', id: 'm3', willRetry: false });
  });

  it('refuses records with restricted characters, and an empty message', () => {
    const h = sender('instrument');
    h.session.send([bytes(HEADER), bytes(`R|1|a${LF}b`)], 'bad');
    expect(h.newReplies()).toEqual([]);
    expect(h.events.at(-1)).toMatchObject({
      type: 'deliveryFailed',
      id: 'bad',
      willRetry: false,
      error: {
        code: 'ASTM_RESTRICTED_CHARACTER',
        message: expect.stringContaining('record 2 contains LF'),
      },
    });
    expect(h.session.pendingOutbound).toBe(0);
    expect(() => h.session.send([], 'empty')).toThrow(RangeError);
  });

  it('rejects options that cannot work', () => {
    const clock = new FakeClock();
    const onEvent = () => {};
    expect(() => new AstmSession({ clock, role: 'host', onEvent, sendFrameText: 0 })).toThrow(
      RangeError,
    );
    expect(() => new AstmSession({ clock, role: 'host', onEvent, maxTransmissions: 0 })).toThrow(
      RangeError,
    );
    expect(() => new AstmSession({ clock, role: 'host', onEvent, maxFrameText: 0 })).toThrow(
      RangeError,
    );
  });
});

// ── properties ────────────────────────────────────────────────────────────────

const SPECIAL = [
  0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0d, 0x15, 0x17, 0x30, 0x31, 0x35, 0x37, 0x4c, 0x7c,
];
const byteArb = fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 }));

/** Cuts `data` into chunks of the given sizes, cycling through them. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = sizes.length > 0 ? sizes[i % sizes.length]! : data.length;
    out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** After any input, EOT and the worked session still give exactly the worked message. */
function expectCleanSessionAfter(h: ReturnType<typeof harness>): void {
  const messagesBefore = h.texts().length;
  h.newReplies();
  h.feed(EOT + SESSION);
  expect(h.texts().slice(messagesBefore)).toEqual([TEXT]);
  expect(h.newReplies()).toEqual(ACKS(6));
  expect(h.session.state).toBe('neutral');
}

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'cut'; at: number; length: number }
  | { kind: 'repeat'; frame: number }
  | { kind: 'drop'; frame: number }
  | { kind: 'renumber'; frame: number; to: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('cut' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({ kind: fc.constant('repeat' as const), frame: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), frame: fc.nat() }),
  fc.record({
    kind: fc.constant('renumber' as const),
    frame: fc.nat(),
    to: fc.integer({ min: 0, max: 7 }),
  }),
);

const QUERY_RECORDS = [HEADER, 'Q|1|^SID001||ALL||||||||O', 'L|1|N'];
const QUERY_TEXT = QUERY_RECORDS.map((r) => r + CR).join('');

/**
 * A valid session carrying two messages, changed by `mutations`: whole frames first (repeated,
 * dropped, renumbered with a checksum that matches), then single bytes (flipped, cut out).
 */
function mutate(mutations: Mutation[]): Buffer {
  const frames = [...FRAMES, ...QUERY_RECORDS.map((r, i) => frame(i + 6, r + CR))];
  for (const m of mutations) {
    const i = 'frame' in m ? m.frame % frames.length : 0;
    if (m.kind === 'repeat') frames.splice(i, 0, frames[i]!);
    else if (m.kind === 'drop' && frames.length > 1) frames.splice(i, 1);
    else if (m.kind === 'renumber') {
      const wire = frames[i]!;
      frames[i] = frame(m.to, wire.slice(2, -5), wire.at(-5) === ETX);
    }
  }
  let data = bytes(ENQ + frames.join('') + EOT);
  for (const m of mutations) {
    if (m.kind === 'flip') {
      data[m.at % data.length] = data[m.at % data.length]! ^ m.mask;
    } else if (m.kind === 'cut') {
      const at = m.at % data.length;
      data = Buffer.concat([data.subarray(0, at), data.subarray(at + m.length)]);
    }
  }
  return data;
}

describe('AstmSession properties', () => {
  it('survives random bytes in random chunks, then receives a clean session', () => {
    fc.assert(
      fc.property(
        fc.array(byteArb, { maxLength: 400 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 10 }),
        fc.boolean(),
        (junk, sizes, store) => {
          let clean = false;
          const h = harness(() => clean || store);
          for (const chunk of chunked(Buffer.from(junk), sizes)) h.session.receive(chunk);
          clean = true;
          expectCleanSessionAfter(h);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('survives a mutated session (flipped bytes, cut, repeated, dropped, renumbered frames)', () => {
    fc.assert(
      fc.property(
        fc.array(mutationArb, { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 10 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        (mutations, sizes, answers) => {
          let n = 0;
          let clean = false;
          const h = harness(() => clean || answers[n++ % answers.length]!);
          for (const chunk of chunked(mutate(mutations), sizes)) h.session.receive(chunk);
          if (mutations.length === 0 && answers.every(Boolean)) {
            expect(h.texts()).toEqual([TEXT, QUERY_TEXT]);
          }
          clean = true;
          expectCleanSessionAfter(h);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('delivers every message intact over a line that loses chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 80 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (losses, sizes, results, count) => {
          let k = 0;
          const t = line({
            middle: (_from, data) => (losses[k++] ? [] : chunked(data, sizes)),
            instrument: { sendFrameText: 64 },
          });
          const sent = Array.from({ length: count }, (_, i) => resultMessage(results + i, `S${i}`));
          sent.forEach((m, i) => t.instrument.send(m, `m${i}`));
          t.run(6 * 3_600_000);
          const texts = sent.map(textOf);
          expect(t.delivered('instrument')).toEqual(sent.map((_, i) => `m${i}`));
          expect(t.instrument.pendingOutbound).toBe(0);
          // At least once, each exactly as sent and in order; partial ones only as prefixes.
          const received = t.texts('host');
          expect(new Set(received)).toEqual(new Set(texts));
          expect(received.map((r) => texts.indexOf(r))).toEqual(
            [...received.map((r) => texts.indexOf(r))].sort((a, b) => a - b),
          );
          for (const partial of t.incomplete('host')) {
            expect(texts.some((text) => text.startsWith(latin1(partial.text)))).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
