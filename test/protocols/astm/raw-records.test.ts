import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../support/fake-clock';
import { decodeMessages } from '../../../src-main/protocols/astm/message';
import {
  RawRecordReader,
  type RawInboundMessage,
  type RawRecordReaderOptions,
} from '../../../src-main/protocols/astm/raw-records';

const FIXTURES = new URL('../../fixtures/astm/', import.meta.url);

const FIRST =
  'H|\\^&|||ANALYZER|||||||P|LIS2-A2|20260101120000\r' +
  'P|1||PID001\r' +
  'O|1|SID001||^^^GLU|R\r' +
  'R|1|^^^GLU|5.4|mmol/L||N||F||||20260101115500\r' +
  'L|1|N\r';
const SECOND =
  'H|@^\\|||ANALYZER|||||||P|LIS2-A2|20260101120100\r' +
  'P|1||PID002\r' +
  'O|1|SID002||^^^CREA|R\r' +
  'R|1|^^^CREA|88|umol/L||N||F||||20260101120000\r' +
  'L|1|N\r';

interface Reading {
  reader: RawRecordReader;
  clock: FakeClock;
  messages: RawInboundMessage[];
  notices: string[];
}

function reading(
  options: Partial<Omit<RawRecordReaderOptions, 'onEvent' | 'clock'>> = {},
): Reading {
  const clock = new FakeClock();
  const messages: RawInboundMessage[] = [];
  const notices: string[] = [];
  const reader = new RawRecordReader({
    clock,
    idleGapMs: 5_000,
    maxMessageText: 1024 * 1024,
    ...options,
    onEvent: (event) => {
      if (event.type === 'message') messages.push(event.message);
      else notices.push(`${event.error.code}: ${event.error.message}`);
    },
  });
  return { reader, clock, messages, notices };
}

const texts = (messages: RawInboundMessage[]) => messages.map((m) => m.text.toString('latin1'));

describe('bare ASTM records', () => {
  it('end a message at its L record, CR or CR LF, split at every byte offset', () => {
    for (const ending of ['\r', '\r\n']) {
      const wire = Buffer.from((FIRST + SECOND).replaceAll('\r', ending), 'latin1');
      for (let at = 0; at <= wire.length; at++) {
        const { reader, messages, clock } = reading();
        reader.receive(wire.subarray(0, at));
        reader.receive(wire.subarray(at));
        expect(texts(messages), `split at ${at} with ${JSON.stringify(ending)}`).toEqual([
          FIRST,
          SECOND,
        ]);
        expect(messages.map((m) => m.terminated)).toEqual(['L', 'L']);
        expect(messages.every((m) => m.errors.length === 0)).toBe(true);
        expect(reader.buffered).toBe(0);
        // Nothing is held, so the idle gap has nothing to end.
        expect(clock.timers).toBe(0);
      }
    }
  });

  it('take every byte on its own, each message decoding to its results', () => {
    const wire = Buffer.from(FIRST + SECOND + FIRST, 'latin1');
    const { reader, messages } = reading();
    for (const byte of wire) reader.receive(Buffer.of(byte));
    expect(messages).toHaveLength(3);
    const decoded = messages.map((m) => decodeMessages(m.text.toString('latin1'))[0]!);
    expect(decoded.map((m) => m.results[0]!.sampleId)).toEqual(['SID001', 'SID002', 'SID001']);
    expect(decoded.map((m) => m.results[0]!.testCode)).toEqual(['GLU', 'CREA', 'GLU']);
    expect(decoded.every((m) => m.errors.length === 0)).toBe(true);
    // The raw bytes are what arrived for the message.
    expect(messages[1]!.raw.toString('latin1')).toBe(SECOND);
  });

  it('end a message without L at the next H record, with a note', () => {
    const withoutL = FIRST.replace('L|1|N\r', '');
    const { reader, messages } = reading();
    reader.receive(Buffer.from(withoutL + SECOND, 'latin1'));
    expect(texts(messages)).toEqual([withoutL, SECOND]);
    expect(messages[0]!.terminated).toBe('H');
    expect(messages[0]!.errors.map((e) => e.code)).toEqual(['ASTM_ENDED_WITHOUT_L']);
    expect(messages[0]!.errors[0]!.message).toMatch(/ended where the next H record began/);
  });

  it('end a message without L after the idle gap, the unfinished last record included', () => {
    const { reader, messages, clock } = reading({ idleGapMs: 3_000 });
    const withoutL = FIRST.replace('L|1|N\r', '');
    reader.receive(Buffer.from(withoutL.slice(0, 40), 'latin1'));
    clock.advance(2_999);
    reader.receive(Buffer.from(withoutL.slice(40, -1), 'latin1')); // the last CR never comes
    clock.advance(2_999);
    expect(messages).toHaveLength(0);
    clock.advance(1);
    expect(texts(messages)).toEqual([withoutL]);
    expect(messages[0]!.terminated).toBe('idle');
    expect(messages[0]!.errors[0]!.message).toBe(
      'the message had no L record; it was ended after 3 s without data (astm.idleGapMs)',
    );
    expect(reader.buffered).toBe(0);
    expect(clock.timers).toBe(0);
    // The next message starts afresh.
    reader.receive(Buffer.from(SECOND, 'latin1'));
    expect(texts(messages)).toEqual([withoutL, SECOND]);
  });

  it('wait for L without an idle gap when it is 0, and end what is held when the line closes', () => {
    const { reader, messages, clock } = reading({ idleGapMs: 0 });
    reader.receive(Buffer.from('H|\\^&\rR|1|^^^K|4.1', 'latin1'));
    clock.advance(3_600_000);
    expect(messages).toHaveLength(0);
    expect(clock.timers).toBe(0);
    reader.close();
    expect(texts(messages)).toEqual(['H|\\^&\rR|1|^^^K|4.1\r']);
    expect(messages[0]!.terminated).toBe('closed');
    reader.receive(Buffer.from(SECOND, 'latin1'));
    expect(messages).toHaveLength(1);
  });

  it('read the bare-records fixture: CR LF endings, the second message cut short', () => {
    const wire = readFileSync(new URL('bare-records.txt', FIXTURES));
    const { reader, messages } = reading();
    reader.receive(wire);
    expect(messages).toHaveLength(1);
    reader.close();
    expect(messages).toHaveLength(2);
    const second = decodeMessages(messages[1]!.text.toString('latin1'))[0]!;
    expect(second.results.map((r) => [r.sampleId, r.testCode, r.value])).toEqual([
      ['B-SPEC-2', 'NA', '141'],
    ]);
  });

  it('take stray control bytes out of the text and keep them in the raw bytes', () => {
    const { reader, messages } = reading();
    reader.receive(Buffer.from('\x00\x11H|\\^&\r\x02P|1||P\x13X\rL|1|N\r', 'latin1'));
    expect(texts(messages)).toEqual(['H|\\^&\rP|1||PX\rL|1|N\r']);
    expect(messages[0]!.raw.toString('latin1')).toBe('\x00\x11H|\\^&\r\x02P|1||P\x13X\rL|1|N\r');
  });

  it('say once that an ENQ means the analyzer uses E1381 framing', () => {
    const { reader, notices } = reading();
    reader.receive(Buffer.of(0x05));
    reader.receive(Buffer.of(0x05));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^ASTM_FRAMING_MISMATCH: received ENQ/);
  });

  it('end a message growing past the limit as it is, and go on with the next records', () => {
    const { reader, messages } = reading({ maxMessageText: 64 });
    reader.receive(Buffer.from('H|\\^&\r' + 'C|1|' + 'x'.repeat(100), 'latin1'));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.terminated).toBe('size');
    expect(messages[0]!.errors[0]!.code).toBe('ASTM_MESSAGE_TOO_LARGE');
    expect(reader.buffered).toBe(0);
    reader.receive(Buffer.from(FIRST, 'latin1'));
    expect(texts(messages).slice(1)).toEqual([FIRST]);
  });
});
