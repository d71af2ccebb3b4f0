import { describe, expect, it } from 'vitest';
import { qcRulesSchema } from '../../src-shared/config';
import { profileNamed, type InstrumentProfile } from '../../src-shared/profiles';
import { decodeAstm } from '../../src-main/protocols/astm/decode';
import { parseHl7 } from '../../src-main/protocols/hl7/message';
import {
  explainAstm,
  explainHl7,
  explainStoredText,
  readAstmMessages,
  readAstmQuerySampleIds,
  readHl7Message,
} from '../../src-main/profiles/read-message';
import { PROFILE_FIXTURES, fixtureBytes, row } from './fixtures';

const noQcRules = qcRulesSchema.parse({ messageMarks: false });
const defaultQc = qcRulesSchema.parse({});

function decode(file: string) {
  return decodeAstm(fixtureBytes(file)).messages;
}

describe('built-in profiles on their fixtures', () => {
  it.each(PROFILE_FIXTURES.map((f) => [f.file, f] as const))(
    '%s: generic reading, then the profile’s',
    (_file, fixture) => {
      const messages = decode(fixture.file);
      expect(messages.flatMap((m) => m.errors)).toEqual([]);
      expect(messages.flatMap((m) => m.results).map(row)).toEqual(fixture.generic);
      const generic = readAstmMessages(messages, { qc: noQcRules });
      expect(generic.results.map(row)).toEqual(fixture.generic);
      const read = readAstmMessages(messages, { profile: fixture.profile, qc: noQcRules });
      expect(read.results.map(row)).toEqual(fixture.profiled);
      expect(read.notes).toEqual([]);
      if (fixture.queries) {
        expect(readAstmQuerySampleIds(messages, { qc: noQcRules }).sampleIds).toEqual(
          fixture.queries.generic,
        );
        expect(
          readAstmQuerySampleIds(messages, { profile: fixture.profile, qc: noQcRules }),
        ).toEqual({ sampleIds: fixture.queries.profiled, notes: [] });
      }
    },
  );

  it('says where each GeneXpert value was read: composed test codes, R-4.2 values', () => {
    const explained = explainAstm(decode('genexpert.astm'), profileNamed('genexpert'));
    const at = (i: number) =>
      explained.sources[i]!.map((s) => `${s.field} ${s.segment} ${s.position}`);
    // Records: H 0, P 1, O 2, R 3, C 4, R 5, R 6 ...
    expect(at(0)).toEqual([
      'sampleId 2 O-3',
      'testCode 3 R-3.4',
      'testCode 3 R-3.7',
      'value 3 R-4.1',
      'status 3 R-9',
      'observedAt 3 R-13',
    ]);
    expect(at(2)).toEqual([
      'sampleId 2 O-3',
      'testCode 6 R-3.4',
      'testCode 6 R-3.7',
      'testCode 6 R-3.8',
      'value 6 R-4.2',
    ]);
  });

  it('says where the generic reading found each value when there is no profile', () => {
    const explained = explainAstm(decode('dca-vantage.astm'), null);
    expect(explained.results.map(row)).toEqual(PROFILE_FIXTURES[4]!.generic);
    expect(explained.sources[1]!.map((s) => `${s.field} ${s.position}`)).toEqual([
      'sampleId O-4.1',
      'patientId P-3',
      'testCode R-3.4',
      'value R-4',
      'units R-5',
      'status R-9',
    ]);
  });

  it('reads a stored text the same way, with record numbers across its messages', () => {
    const messages = decode('dca-vantage.astm');
    const twice = [messages[0]!.text, messages[0]!.text].join('\r');
    const explained = explainStoredText('astm', twice, profileNamed('dca-vantage'));
    expect(explained.results).toHaveLength(6);
    const times = explained.sources.map((s) => s.find((x) => x.field === 'observedAt'));
    expect(times[0]).toEqual({ field: 'observedAt', segment: 3, position: 'R-12' });
    expect(times[3]).toEqual({ field: 'observedAt', segment: 9 + 3, position: 'R-12' });
  });
});

describe('a profile that does not fit the message', () => {
  it('keeps the generic reading and says so once, in plain words', () => {
    const messages = decode('dca-vantage.astm');
    const read = readAstmMessages(messages, { profile: 'hitachi-7600', qc: noQcRules });
    expect(read.results.map(row)).toEqual(PROFILE_FIXTURES[4]!.generic);
    expect(read.notes).toEqual([
      {
        code: 'PROFILE_MISMATCH',
        message:
          'profile "hitachi-7600" (Hitachi 7600) does not fit: 3 of 3 results have (first: result 1, "R|1|^^^Alb|18.2|mg/L||||F|||202506031110…") no O-3.2 for the sample ID; the generic reading was kept',
      },
    ]);
  });

  it('never gives an empty result: values the profile cannot find stay as read', () => {
    const messages = decode('genexpert.astm');
    const read = readAstmMessages(messages, { profile: 'dca-vantage', qc: noQcRules });
    expect(read.results.map(row)).toEqual(PROFILE_FIXTURES[0]!.generic);
    expect(read.notes).toHaveLength(1);
    expect(read.notes[0]!.message).toContain('7 of 9 results have');
    expect(read.notes[0]!.message).toContain('no R-13.1 or R-12.1 for the result time');
  });

  it('reports a time field that holds something else than a time', () => {
    const [message] = decodeAstm(
      Buffer.from('H|\\^&\rP|1\rO|1|S1\rR|1|^^^GLU|5|mmol/L||||F|||soon\rL|1|N\r', 'latin1'),
    ).messages;
    const read = readAstmMessages([message!], { profile: 'dca-vantage', qc: noQcRules });
    expect(read.results[0]!.observedAt).toBeNull();
    expect(read.notes[0]!.message).toContain('R-13.1 or R-12.1 of result 1 holds "soon"');
  });

  it('reads the generic way a host query without the place the profile names', () => {
    const [message] = decodeAstm(Buffer.from('H|\\^&\rQ|1|^S77||ALL\rL|1|N\r', 'latin1')).messages;
    const read = readAstmQuerySampleIds([message!], { profile: 'hitachi-7600', qc: noQcRules });
    expect(read.sampleIds).toEqual(['S77']);
    expect(read.notes[0]!.message).toContain('the host query has no Q-3.3');
  });
});

describe('QC marks', () => {
  it('marks results whose message says it is QC (H-12 Q), when the rules trust such marks', () => {
    const messages = decode('yumizen-h500.astm');
    expect(readAstmMessages(messages, { qc: defaultQc }).results.map((r) => r.qc)).toEqual([
      true,
      true,
      true,
    ]);
    expect(readAstmMessages(messages, { qc: noQcRules }).results.map((r) => r.qc)).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('marks an order with action code Q (O-12), and sample IDs matching a pattern', () => {
    const text = [
      'H|\\^&|||A||||||||P',
      'P|1',
      'O|1|PAT01||^^^GLU|R||||||N',
      'R|1|^^^GLU|5.1|mmol/L',
      'O|2|CTRL-LOW||^^^GLU|R||||||Q',
      'R|1|^^^GLU|3.0|mmol/L',
      'O|3|qc-high-7||^^^GLU|R||||||N',
      'R|1|^^^GLU|15.2|mmol/L',
      'L|1|N',
    ].join('\r');
    const messages = decodeAstm(Buffer.from(text, 'latin1')).messages;
    const marks = (rules: object) =>
      readAstmMessages(messages, { qc: qcRulesSchema.parse(rules) }).results.map((r) => r.qc);
    expect(marks({})).toEqual([false, true, false]);
    expect(marks({ sampleIds: ['QC-*'] })).toEqual([false, true, true]);
    expect(marks({ sampleIds: ['QC-*'], messageMarks: false })).toEqual([false, false, true]);
    expect(marks({ sampleIds: ['PAT0?'], messageMarks: false })).toEqual([true, false, false]);
  });
});

describe('HL7', () => {
  const oru = [
    'MSH|^~\\&|ANALYZER|LAB|LIS|HOSP|20250601120000||ORU^R01^ORU_R01|M1|P|2.5.1',
    'PID|1||PAT9^^^HOSP',
    'OBR|1||S-900|CBC',
    'OBX|1|NM|WBC^White cells||7.2|10*3/uL^thousand per microlitre^UCUM|4-10|N|||F|||20250601115500',
    'OBX|2|SN|CRP||<^5|mg/L||||F',
    'SPM|1|SP-900&LAB||BLD|||||||P',
    'OBR|2||C-17|CBC',
    'OBX|1|NM|WBC||2.1|10*3/uL||L|||F',
    'SPM|2|C-17||BLD|||||||Q',
  ].join('\r');

  it('finds where the generic reading took each value', () => {
    const explained = explainHl7(parseHl7(oru), null);
    expect(explained.results.map((r) => [r.sampleId, r.testCode, r.value])).toEqual([
      ['SP-900', 'WBC', '7.2'],
      ['SP-900', 'CRP', '<5'],
      ['C-17', 'WBC', '2.1'],
    ]);
    expect(explained.sources[0]!.map((s) => `${s.field} ${s.segment} ${s.position}`)).toEqual([
      'sampleId 5 SPM-2.1',
      'patientId 1 PID-3.1',
      'testCode 3 OBX-3.1',
      'value 3 OBX-5',
      'units 3 OBX-6.1',
      'flags 3 OBX-8',
      'status 3 OBX-11',
      'observedAt 3 OBX-14',
    ]);
  });

  it('marks a control specimen (SPM-11 Q) as QC', () => {
    const read = readHl7Message(parseHl7(oru), { qc: defaultQc });
    expect(read.results.map((r) => r.qc)).toEqual([false, false, true]);
  });

  it('reads with an HL7 profile: another place for the sample ID and the units', () => {
    const profile: InstrumentProfile = {
      name: 'obr-samples',
      title: 'Test analyzer',
      protocol: 'hl7',
      summary: 'sample IDs in OBR-3, units in OBX-6.2',
      results: { sampleId: 'OBR-3.1', units: ['OBX-6.2', 'OBX-6.1'] },
    };
    const explained = explainHl7(parseHl7(oru), profile);
    expect(explained.results.map((r) => [r.sampleId, r.units])).toEqual([
      ['S-900', 'thousand per microlitre'],
      ['S-900', 'mg/L'],
      ['C-17', '10*3/uL'],
    ]);
    expect(explained.notes).toEqual([]);
    expect(explained.sources[0]!.filter((s) => s.field === 'units')).toEqual([
      { field: 'units', segment: 3, position: 'OBX-6.2' },
    ]);
  });
});
