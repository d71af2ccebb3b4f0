import { describe, expect, it } from 'vitest';
import { buildAck, type AckCode, type AckDetail } from '../../../src-main/protocols/hl7/ack';
import { parseHl7 } from '../../../src-main/protocols/hl7/message';
import { MLLP_COMMIT_ACK, MLLP_COMMIT_NAK, frameMllp } from '../../../src-main/protocols/hl7/mllp';
import {
  Hl7Sender,
  type Hl7SenderEvent,
  type Hl7SenderOptions,
} from '../../../src-main/protocols/hl7/sender';
import { FakeClock } from '../../support/fake-clock';

function message(id: string, modes = ''): string {
  return (
    `MSH|^~\\&|ANALYZER|LAB|LIS|HOSP|20240101120000||ORU^R01^ORU_R01|${id}|P|2.5.1${modes}\r` +
    `PID|1||PID001\rOBR|1||SID-${id}\rOBX|1|NM|GLU||5.4|mmol/L|||||F\r`
  );
}

function ackFor(id: string, code: AckCode, detail?: AckDetail, modes = ''): Buffer {
  const ack = buildAck(
    parseHl7(message(id, modes)),
    code,
    { now: '20240101120001', controlId: `A-${id}` },
    detail,
  );
  return frameMllp(ack.payload);
}

function setup(options: Partial<Hl7SenderOptions> = {}) {
  const clock = new FakeClock();
  const events: Hl7SenderEvent[] = [];
  const sender = new Hl7Sender({ clock, onEvent: (e) => events.push(e), ...options });
  const summary = () =>
    events.map((e) => {
      switch (e.type) {
        case 'send':
        case 'timeout':
          return `${e.type} ${e.id}`;
        case 'committed':
        case 'acked':
          return `${e.type} ${e.id} ${e.code}`;
        case 'rejected':
          return `rejected ${e.id} ${e.code}: ${e.text}`;
        case 'error':
          return `error ${e.error.code}`;
      }
    });
  return { clock, events, sender, summary };
}

describe('Hl7Sender', () => {
  it('sends one message at a time by default and frames it', () => {
    const { sender, events, summary } = setup();
    expect(sender.send(message('M1'))).toBe('M1');
    sender.send(message('M2'));
    expect(summary()).toEqual(['send M1']);
    expect(events[0]).toEqual({
      type: 'send',
      id: 'M1',
      bytes: frameMllp(Buffer.from(message('M1'))),
    });
    expect([sender.outstanding, sender.queued]).toEqual([1, 1]);
    sender.receive(ackFor('M1', 'AA'));
    expect(summary()).toEqual(['send M1', 'acked M1 AA', 'send M2']);
    sender.receive(ackFor('M2', 'AA'));
    expect(sender.idle).toBe(true);
  });

  it('matches ACKs to messages by MSA-2 in any order within the window', () => {
    const { sender, summary } = setup({ window: 3 });
    for (const id of ['M1', 'M2', 'M3', 'M4']) sender.send(message(id));
    expect(summary()).toEqual(['send M1', 'send M2', 'send M3']);
    sender.receive(Buffer.concat([ackFor('M3', 'AA'), ackFor('M1', 'AA')]));
    sender.receive(ackFor('M2', 'CA'));
    expect(summary().slice(3)).toEqual(['acked M3 AA', 'send M4', 'acked M1 AA', 'acked M2 CA']);
  });

  it('reads ACKs split at any byte', () => {
    const { sender, summary } = setup();
    sender.send(message('M1'));
    for (const byte of ackFor('M1', 'AA')) sender.receive(Buffer.of(byte));
    expect(summary()).toEqual(['send M1', 'acked M1 AA']);
  });

  it('reports AE and AR with the ACK’s own words', () => {
    const { sender, summary, events } = setup({ window: 2 });
    sender.send(message('M1'));
    sender.send(message('M2'));
    sender.receive(ackFor('M1', 'AE', { text: 'OBX-3 is empty', code: '101' }));
    sender.receive(ackFor('M2', 'AR'));
    expect(summary().slice(2)).toEqual([
      'rejected M1 AE: OBX-3 is empty',
      'rejected M2 AR: the receiver rejected the message (AR)',
    ]);
    expect(events[2]).toMatchObject({ error: { code: 'HL7_ACK_REJECTED' } });
  });

  it('times out a message without an ACK and moves on', () => {
    const { sender, clock, summary, events } = setup({ ackTimeoutMs: 10_000 });
    sender.send(message('M1'));
    sender.send(message('M2'));
    clock.advance(9_999);
    expect(summary()).toEqual(['send M1']);
    clock.advance(1);
    expect(summary()).toEqual(['send M1', 'timeout M1', 'send M2']);
    expect(events[1]).toMatchObject({ error: { code: 'HL7_ACK_TIMEOUT' } });
    sender.receive(ackFor('M1', 'AA'));
    expect(summary()[3]).toBe('error HL7_UNMATCHED_ACK');
    expect(events[3]).toMatchObject({
      error: { message: expect.stringMatching(/already timed out/) },
    });
    sender.receive(ackFor('M2', 'AA'));
    expect(summary()[4]).toBe('acked M2 AA');
    expect(clock.timers).toBe(0);
  });

  it('reports ACKs for messages it never sent', () => {
    const { sender, summary } = setup();
    sender.send(message('M1'));
    sender.receive(ackFor('NOPE', 'AA'));
    expect(summary()).toEqual(['send M1', 'error HL7_UNMATCHED_ACK']);
    expect(sender.outstanding).toBe(1);
  });

  it('waits for the application ACK after a CA when MSH-16 asks for one', () => {
    const modes = '|||AL|AL';
    const { sender, clock, summary } = setup({ ackTimeoutMs: 1000 });
    sender.send(message('M1', modes));
    clock.advance(900);
    sender.receive(ackFor('M1', 'CA', undefined, modes));
    clock.advance(900);
    sender.receive(ackFor('M1', 'AA', undefined, modes));
    expect(summary()).toEqual(['send M1', 'committed M1 CA', 'acked M1 AA']);
  });

  it('takes MLLP commit blocks for the oldest message', () => {
    const { sender, summary } = setup({ window: 2 });
    sender.send(message('M1'));
    sender.send(message('M2'));
    sender.receive(Buffer.concat([MLLP_COMMIT_ACK, MLLP_COMMIT_NAK]));
    expect(summary().slice(2)).toEqual([
      'committed M1 commit',
      'rejected M2 NAK: the receiver refused the block (MLLP commit NAK)',
    ]);
  });

  it('writes a message in the character set its MSH-18 declares', () => {
    const { sender, events } = setup();
    const text = message('U1', '||||||UNICODE UTF-8').replace('PID001', 'PID-É');
    sender.send(text);
    const sent = events[0];
    expect(sent?.type === 'send' && sent.bytes.includes(Buffer.from('PID-É', 'utf8'))).toBe(true);
  });

  it('refuses a message it could not match an ACK to', () => {
    const { sender } = setup();
    sender.send(message('M1'));
    expect(() => sender.send(message('M1'))).toThrowError(/already waiting/);
    expect(() => sender.send(message(''))).toThrowError(/control ID/);
    expect(() => sender.send('PID|1')).toThrowError(RangeError);
  });

  it('lets go of everything on close', () => {
    const { sender, clock } = setup();
    sender.send(message('M1'));
    sender.send(message('M2'));
    expect(sender.close()).toEqual(['M1', 'M2']);
    expect(clock.timers).toBe(0);
    expect(() => sender.send(message('M3'))).toThrowError(/closed/);
  });
});
