import { describe, expect, it } from 'vitest';
import { decodeHl7 } from '../../../src-main/protocols/hl7/decode';
import { frameMllp } from '../../../src-main/protocols/hl7/mllp';
import { fixture } from './support';

const hematology = fixture('oru-r01-hematology.hl7');
const chemistry = fixture('oru-r01-chemistry-v231.hl7');
const oul = fixture('oul-r22-law.hl7');

const codes = (errors: { code: string }[]) => errors.map((e) => e.code);

describe('decodeHl7', () => {
  it('decodes an MLLP capture message by message', () => {
    const { messages } = decodeHl7(
      Buffer.concat([frameMllp(hematology), frameMllp(chemistry), frameMllp(oul)]),
    );
    expect(messages.map((m) => [m.type, m.controlId, m.version, m.results.length])).toEqual([
      ['ORU^R01^ORU_R01', 'XN0001234', '2.5.1', 8],
      ['ORU^R01', 'C311-000017', '2.3.1', 3],
      ['OUL^R22^OUL_R22', 'LAW-000001', '2.5.1', 4],
    ]);
    const first = messages[0]!;
    expect(first).toMatchObject({
      protocol: 'hl7',
      sendingApplication: 'XN-550',
      sendingFacility: 'HEMA-LAB',
      receivingApplication: 'LIS',
      receivingFacility: 'CITY-HOSP',
      dateTime: '2024-03-15T08:30:12+01:00',
      charset: 'latin1',
      errors: [],
    });
    expect(first.segments[0]).toEqual({
      name: 'MSH',
      fields: [
        '|',
        '^~\\&',
        'XN-550^SYSMEX',
        'HEMA-LAB',
        'LIS',
        'CITY-HOSP',
        '20240315083012+0100',
        '',
        'ORU^R01^ORU_R01',
        'XN0001234',
        'P',
        '2.5.1',
      ],
    });
    expect(first.segments.map((s) => s.name).join(' ')).toBe(
      'MSH PID PV1 ORC OBR OBX OBX OBX OBX OBX OBX OBX SPM OBR OBX',
    );
    expect(JSON.parse(JSON.stringify(messages))).toEqual(messages);
  });

  it('decodes bare HL7: CR, LF or blank lines between messages', () => {
    const lf = (b: Buffer) => b.toString('latin1').replaceAll('\r', '\n');
    for (const text of [
      Buffer.concat([hematology, chemistry, oul]).toString('latin1'),
      [lf(hematology), lf(chemistry), lf(oul)].join('\n\n'),
      [hematology, chemistry, oul].map((b) => b.toString('latin1')).join('\r\n'),
    ]) {
      const { messages } = decodeHl7(Buffer.from(text, 'latin1'));
      expect(messages.map((m) => m.controlId)).toEqual(['XN0001234', 'C311-000017', 'LAW-000001']);
      expect(messages.map((m) => m.results.length)).toEqual([8, 3, 4]);
      expect(messages.flatMap((m) => m.errors)).toEqual([]);
    }
  });

  it('looks through batch envelopes', () => {
    const batch = Buffer.concat([
      Buffer.from('FHS|^~\\&|LAB\rBHS|^~\\&|LAB\r'),
      chemistry,
      oul,
      Buffer.from('BTS|2\rFTS|1\r'),
    ]);
    const { messages } = decodeHl7(batch);
    expect(messages.map((m) => m.controlId)).toEqual(['C311-000017', 'LAW-000001']);
    expect(messages[1]!.segments.at(-1)!.name).toBe('OBX');
    expect(messages.flatMap((m) => m.errors)).toEqual([]);
  });

  it('says plainly when the input is not HL7, and shows what it read', () => {
    const { messages } = decodeHl7(Buffer.from('H|\\^&|||cobas\rP|1\rL|1|N\r'));
    expect(messages).toHaveLength(1);
    expect(codes(messages[0]!.errors)).toEqual(['HL7_NOT_HL7']);
    expect(messages[0]!.errors[0]!.message).toMatch(/not HL7 v2: no MSH segment/);
    expect(messages[0]!.segments.map((s) => s.name)).toEqual(['H', 'P', 'L']);
    expect(messages[0]!.results).toEqual([]);
  });

  it('reports lines before the first MSH and reads the message', () => {
    const { messages } = decodeHl7(Buffer.concat([Buffer.from('hello\rworld\r'), chemistry]));
    expect(codes(messages[0]!.errors)).toEqual(['HL7_NO_MSH']);
    expect(messages[0]!.results).toHaveLength(3);
  });

  it('puts stream problems on the message that follows them', () => {
    const stream = Buffer.concat([
      Buffer.from('noise'),
      frameMllp(chemistry),
      Buffer.of(0x0b),
      oul.subarray(0, 200),
      frameMllp(hematology),
    ]);
    const { messages } = decodeHl7(stream);
    expect(messages.map((m) => [m.controlId, codes(m.errors)])).toEqual([
      ['C311-000017', ['MLLP_UNEXPECTED_BYTES']],
      ['LAW-000001', ['MLLP_INCOMPLETE_BLOCK']],
      ['XN0001234', []],
    ]);
  });

  it('keeps an entry for a message over the size limit', () => {
    const { messages } = decodeHl7(Buffer.concat([frameMllp(hematology), frameMllp(chemistry)]), {
      maxMessageBytes: chemistry.length,
    });
    expect(messages.map((m) => [m.controlId, codes(m.errors)])).toEqual([
      [null, ['MLLP_MESSAGE_TOO_LARGE']],
      ['C311-000017', []],
    ]);
  });

  it('reads a message with a broken MSH as far as it goes', () => {
    const { messages } = decodeHl7(Buffer.from('MSH\rPID|1||X\r'));
    expect(codes(messages[0]!.errors)).toEqual(['HL7_BAD_MSH']);
    expect(messages[0]!.segments.map((s) => s.name)).toEqual(['MSH', 'PID']);
  });

  it('gives nothing for empty input', () => {
    expect(decodeHl7(Buffer.alloc(0)).messages).toEqual([]);
    expect(decodeHl7(Buffer.from('\r\n \n')).messages).toEqual([]);
  });
});
