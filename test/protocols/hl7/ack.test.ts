import { describe, expect, it } from 'vitest';
import {
  ackMode,
  buildAck,
  decideAcks,
  type AckOutcome,
} from '../../../src-main/protocols/hl7/ack';
import { parseHl7 } from '../../../src-main/protocols/hl7/message';
import { formatHl7DateTime } from '../../../src-main/protocols/hl7/time';
import { fixtureText } from './support';

const WORKED =
  'MSH|^~\\&|ANALYZER|LAB|LIS|HOSP|20240101120000||ORU^R01^ORU_R01|MSG00001|P|2.5.1\r' +
  'PID|1||PID001||DOE^JOHN\rOBR|1||SID001\rOBX|1|NM|GLU||5.4|mmol/L|||||F\r';

const context = { now: '20240101120005', controlId: 'ACK00001' };
const accepted: AckOutcome = { kind: 'accepted' };
const error: AckOutcome = {
  kind: 'error',
  text: 'PID-3 (patient ID) is empty',
  code: '101',
  location: { segment: 'PID', sequence: 1, field: 3 },
};

function withModes(acceptAck: string, appAck: string, version = '2.5.1'): string {
  return WORKED.replace('|P|2.5.1', `|P|${version}|||${acceptAck}|${appAck}`);
}

describe('decideAcks', () => {
  it('reproduces the worked example of PROTOCOLS.md', () => {
    const acks = decideAcks(parseHl7(WORKED), accepted, {
      now: Date.UTC(2024, 0, 1, 12, 0, 5),
      controlId: 'ACK00001',
    });
    expect(acks.map((a) => a.text)).toEqual([
      'MSH|^~\\&|LIS|HOSP|ANALYZER|LAB|20240101120005||ACK^R01^ACK|ACK00001|P|2.5.1\r' +
        'MSA|AA|MSG00001\r',
    ]);
    expect(acks[0]).toMatchObject({ level: 'original', code: 'AA', controlId: 'ACK00001' });
    expect(acks[0]!.payload.toString('latin1')).toBe(acks[0]!.text);
  });

  it('answers AE and AR in original mode, with ERR in the v2.5 layout', () => {
    const message = parseHl7(WORKED);
    expect(ackMode(message)).toBe('original');
    expect(decideAcks(message, error, context).map((a) => a.text)).toEqual([
      'MSH|^~\\&|LIS|HOSP|ANALYZER|LAB|20240101120005||ACK^R01^ACK|ACK00001|P|2.5.1\r' +
        'MSA|AE|MSG00001|PID-3 (patient ID) is empty\r' +
        'ERR||PID^1^3|101^PID-3 (patient ID) is empty^HL70357|E\r',
    ]);
    const [storage] = decideAcks(message, { kind: 'rejected', reason: 'storage' }, context);
    expect(storage!.code).toBe('AR');
    expect(storage!.text).toContain(
      'ERR|||207^the message could not be stored and was not accepted; send it again^HL70357|E\r',
    );
    const [unsupported] = decideAcks(message, { kind: 'rejected', reason: 'unsupported' }, context);
    expect(unsupported!.text).toContain(
      'ERR||MSH^1^9|200^message type ORU\\S\\R01 is not supported^HL70357|E\r',
    );
  });

  it('uses the older ERR layout before v2.5 and drops MSA-3 from v2.7', () => {
    const v231 = parseHl7(WORKED.replace('2.5.1', '2.3.1'));
    expect(decideAcks(v231, error, context)[0]!.text).toBe(
      'MSH|^~\\&|LIS|HOSP|ANALYZER|LAB|20240101120005||ACK^R01^ACK|ACK00001|P|2.3.1\r' +
        'MSA|AE|MSG00001|PID-3 (patient ID) is empty\r' +
        'ERR|PID^1^3^101&PID-3 (patient ID) is empty&HL70357\r',
    );
    const v27 = parseHl7(WORKED.replace('2.5.1', '2.7'));
    const text = decideAcks(v27, error, context)[0]!.text;
    expect(text).toContain('MSA|AE|MSG00001\r');
    expect(text).toContain('ERR||PID^1^3|101^');
  });

  const matrix: [string, string, 'ok' | 'error', string[]][] = [
    // accept ACK per MSH-15, application ACKs switched off
    ['AL', 'NE', 'ok', ['CA']],
    ['AL', 'NE', 'error', ['CE']],
    ['ER', 'NE', 'ok', []],
    ['ER', 'NE', 'error', ['CE']],
    ['SU', 'NE', 'ok', ['CA']],
    ['SU', 'NE', 'error', []],
    ['NE', 'NE', 'ok', []],
    ['NE', 'NE', 'error', []],
    // application ACK per MSH-16, accept ACKs switched off
    ['NE', 'AL', 'ok', ['AA']],
    ['NE', 'AL', 'error', ['AE']],
    ['NE', 'ER', 'ok', []],
    ['NE', 'ER', 'error', ['AE']],
    ['NE', 'SU', 'ok', ['AA']],
    ['NE', 'SU', 'error', []],
    // both: a failed accept ACK ends the exchange
    ['AL', 'AL', 'ok', ['CA', 'AA']],
    ['AL', 'AL', 'error', ['CE']],
    ['SU', 'AL', 'error', ['AE']],
    ['ER', 'SU', 'ok', ['AA']],
  ];
  it.each(matrix)(
    'enhanced mode MSH-15 %s, MSH-16 %s, %s → %j',
    (acceptAck, appAck, result, codes) => {
      const message = parseHl7(withModes(acceptAck, appAck));
      expect(ackMode(message)).toBe('enhanced');
      const acks = decideAcks(message, result === 'ok' ? accepted : error, context);
      expect(acks.map((a) => a.code)).toEqual(codes);
      for (const ack of acks) {
        const parsed = parseHl7(ack.text);
        // An ACK never asks for an ACK.
        expect([parsed.msh.acceptAck, parsed.msh.appAck]).toEqual(['NE', 'NE']);
        expect(parsed.get('MSA', 2)).toBe('MSG00001');
      }
    },
  );

  it('gives each ACK of a pair its own control ID', () => {
    const message = parseHl7(withModes('AL', 'AL'));
    expect(decideAcks(message, accepted, context).map((a) => a.controlId)).toEqual([
      'ACK00001',
      'ACK00001.2',
    ]);
    let n = 0;
    const counter = () => `GW${String(++n).padStart(5, '0')}`;
    const acks = decideAcks(message, accepted, { now: context.now, controlId: counter });
    expect(acks.map((a) => parseHl7(a.text).msh.controlId)).toEqual(['GW00001', 'GW00002']);
  });

  it('counts AR as a rejection in enhanced mode too', () => {
    const message = parseHl7(withModes('AL', 'AL'));
    const acks = decideAcks(message, { kind: 'rejected', reason: 'unsupported-version' }, context);
    expect(acks.map((a) => a.code)).toEqual(['CR']);
    expect(acks[0]!.text).toContain(
      'ERR||MSH^1^12|203^HL7 version 2.5.1 is not supported^HL70357|E',
    );
  });

  it('never acknowledges an ACK', () => {
    const [ack] = decideAcks(parseHl7(WORKED), accepted, context);
    expect(decideAcks(parseHl7(ack!.text), accepted, context)).toEqual([]);
  });

  it('answers in the message’s own delimiters and character set', () => {
    const hash = parseHl7(fixtureText('custom-encoding-hash.hl7'));
    expect(decideAcks(hash, accepted, context)[0]!.text).toBe(
      'MSH#$%?!#LIS#HOSP#ANALYZER#LAB#20240101120005##ACK$R01$ACK#ACK00001#P#2.5.1\rMSA#AA#CUST-1\r',
    );
    const utf8 = parseHl7(fixtureText('oul-r22-law.hl7').replace('|LIS|', '|LIS-É|'));
    const [accept] = decideAcks(utf8, accepted, { ...context, controlId: 'X1' });
    expect(accept!.text.split('\r')[0]).toBe(
      'MSH|^~\\&|LIS-É|HOSP|ANALYZER^1.2.3.4^ISO|LAB|20240101120005||ACK^R22^ACK|X1|P|2.5.1|||NE|NE||UNICODE UTF-8',
    );
    expect(accept!.payload.includes(Buffer.from('LIS-É', 'utf8'))).toBe(true);
  });

  it('fills our own application name when the message left MSH-5 empty', () => {
    const message = parseHl7('MSH|^~\\&|ANALYZER|LAB|||20240101||ORU^R01|9|P|2.5');
    const [ack] = decideAcks(message, accepted, { ...context, application: 'GATEWAY' });
    expect(ack!.text.split('\r')[0]).toBe(
      'MSH|^~\\&|GATEWAY||ANALYZER|LAB|20240101120005||ACK^R01^ACK|ACK00001|P|2.5',
    );
  });

  it('builds one ACK with a chosen code', () => {
    const ack = buildAck(parseHl7(WORKED), 'AR', context, { text: 'busy', code: '207' });
    expect(ack.text).toContain('MSA|AR|MSG00001|busy\rERR|||207^busy^HL70357|E\r');
  });
});

describe('formatHl7DateTime', () => {
  it('writes an instant as wall-clock time at an offset', () => {
    const instant = Date.UTC(2024, 1, 29, 23, 30, 15, 999);
    expect(formatHl7DateTime(instant)).toBe('20240229233015');
    expect(formatHl7DateTime(instant, 60)).toBe('20240301003015');
    expect(formatHl7DateTime(instant, -300)).toBe('20240229183015');
    expect(formatHl7DateTime(Date.UTC(1999, 11, 31, 0, 0, 0))).toBe('19991231000000');
  });
});
