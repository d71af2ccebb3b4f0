import { describe, expect, it } from 'vitest';
import { layoutFrames } from '../../../src-main/protocols/astm/frame';
import {
  assembleMessages,
  decodeMessages,
  encodeAstmMessage,
  encodeNoInformation,
  encodeQueryAnswer,
  normalizeResult,
  recordsToBytes,
  type AstmOutboundHeader,
} from '../../../src-main/protocols/astm/message';
import { AstmRecord, decodeRecords } from '../../../src-main/protocols/astm/records';

const WORKED = [
  'H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000',
  'P|1||PID001||DOE^JOHN||19800101|M',
  'O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F',
  'R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500',
  'L|1|N',
];

function one(text: string) {
  const messages = decodeMessages(text);
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

function codes(errors: readonly { code: string }[]): string[] {
  return errors.map((e) => e.code);
}

describe('a message', () => {
  it('reads the worked example: header, result, termination, text', () => {
    const m = one(WORKED.join('\r'));
    expect(m.protocol).toBe('astm');
    expect(m.errors).toEqual([]);
    expect(m.header).toEqual({
      delimiters: { field: '|', repeat: '\\', component: '^', escape: '&' },
      messageControlId: null,
      sender: 'ACME',
      senderParts: ['ACME', 'AN1', '1.0'],
      receiver: null,
      processingId: 'P',
      version: 'LIS2-A2',
      timestamp: '2024-01-01T12:00:00',
    });
    expect(m.results).toEqual([
      {
        sampleId: 'SID001',
        patientId: 'PID001',
        testCode: 'GLU',
        value: '5.4',
        units: 'mmol/L',
        flags: 'N',
        status: 'F',
        observedAt: '2024-01-01T11:55:00',
      },
    ]);
    expect(m.resultSources).toEqual([{ record: 3, patient: 1, order: 2, comments: [] }]);
    expect(m.termination).toBe('N');
    expect(m.text).toBe(WORKED.join('\r'));
    expect(JSON.parse(JSON.stringify(m.records[4]))).toEqual({
      type: 'L',
      fields: ['L', '1', 'N'],
    });
  });

  it('cuts a record stream into messages at H and after L', () => {
    const text = [
      ...WORKED,
      ...WORKED.slice(0, 4).map((r) => r.replace('SID001', 'SID002')),
      'L|1|N',
    ];
    const messages = decodeMessages(text.join('\r'));
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => m.results[0]!.sampleId)).toEqual(['SID001', 'SID002']);
    expect(messages.every((m) => m.errors.length === 0)).toBe(true);
  });

  it('keeps records before the first H with ASTM_NO_HEADER', () => {
    const messages = decodeMessages(['O|1|S0', 'R|1|^^^K|4.2', ...WORKED].join('\r'));
    expect(messages).toHaveLength(2);
    const [orphan, whole] = messages;
    expect(orphan!.header).toBeNull();
    expect(codes(orphan!.errors)).toEqual(['ASTM_NO_HEADER', 'ASTM_NO_TERMINATOR']);
    expect(orphan!.errors[0]!.message).toBe(
      '2 records arrived without an H record before them (first: "O|1|S0"); read with delimiters "|\\^&"',
    );
    expect(orphan!.results).toEqual([
      {
        sampleId: 'S0',
        patientId: null,
        testCode: 'K',
        value: '4.2',
        units: null,
        flags: null,
        status: null,
        observedAt: null,
      },
    ]);
    expect(whole!.errors).toEqual([]);
  });

  it('gives records between an L and the next H a message of their own', () => {
    const messages = decodeMessages([...WORKED, 'C|1|I|stray', 'L|1|N', ...WORKED].join('\r'));
    expect(messages.map((m) => m.records.length)).toEqual([5, 2, 5]);
    expect(codes(messages[1]!.errors)).toEqual(['ASTM_NO_HEADER']);
  });

  it('reports a message cut short with ASTM_NO_TERMINATOR and keeps its results', () => {
    const m = one(WORKED.slice(0, 4).join('\r'));
    expect(codes(m.errors)).toEqual(['ASTM_NO_TERMINATOR']);
    expect(m.errors[0]!.message).toContain('without an L record');
    expect(m.results).toHaveLength(1);
    expect(m.termination).toBeNull();
  });

  it('a new H ends an unterminated message', () => {
    const messages = decodeMessages([...WORKED.slice(0, 4), ...WORKED].join('\r'));
    expect(messages).toHaveLength(2);
    expect(codes(messages[0]!.errors)).toEqual(['ASTM_NO_TERMINATOR']);
    expect(messages[1]!.errors).toEqual([]);
  });

  it('keeps unknown record types with ASTM_UNKNOWN_RECORD and a bad header with ASTM_BAD_HEADER', () => {
    const m = one(['H|\\^|', 'P|1', 'Z|1|zz', 'R|1|^^^A|1', 'L|1|N'].join('\r'));
    expect(codes(m.errors)).toEqual(['ASTM_BAD_HEADER', 'ASTM_UNKNOWN_RECORD']);
    expect(m.errors[1]!.message).toBe('record 3: unknown record type "Z" in "Z|1|zz"; kept as is');
    expect(m.records.map((r) => r.type)).toEqual(['H', 'P', 'Z', 'R', 'L']);
    expect(m.results).toHaveLength(1);
  });

  it('places transport notes on the message holding the record', () => {
    const records = decodeRecords([...WORKED, ...WORKED].join('\r'));
    const note = (record: number, message: string) => ({
      record,
      error: { code: 'ASTM_BAD_CHECKSUM' as const, message },
    });
    const messages = assembleMessages(records, [note(1, 'a'), note(6, 'b'), note(99, 'c')]);
    expect(messages.map((m) => m.errors.map((e) => e.message))).toEqual([['a'], ['b', 'c']]);
  });
});

describe('results under the P → O → R hierarchy', () => {
  it('gives each R the P and O governing it', () => {
    const m = one(
      [
        'H|\\^&',
        'R|1|^^^X|0',
        'P|1|PA',
        'R|2|^^^Y|1',
        'O|1|SA',
        'R|3|^^^Z|2',
        'O|2|SB',
        'R|4|^^^W|3',
        'P|2||PB-lab',
        'R|5|^^^V|4',
        'O|1||^^ SC ^',
        'R|6|^^^U|5',
        'Q|1|ALL',
        'R|7|^^^T|6',
        'L|1|N',
      ].join('\r'),
    );
    expect(m.results.map((r) => [r.patientId, r.sampleId, r.testCode])).toEqual([
      [null, null, 'X'],
      ['PA', null, 'Y'],
      ['PA', 'SA', 'Z'],
      ['PA', 'SB', 'W'],
      ['PB-lab', null, 'V'],
      ['PB-lab', 'SC', 'U'],
      [null, null, 'T'],
    ]);
    expect(m.resultSources.map((s) => [s.patient, s.order])).toEqual([
      [null, null],
      [2, null],
      [2, 4],
      [2, 6],
      [8, null],
      [8, 10],
      [null, null],
    ]);
  });

  it('takes sampleId from O-3 else O-4, first non-empty component, trimmed', () => {
    const sample = (order: string) =>
      normalizeResult(new AstmRecord('R|1|^^^A|1'), null, new AstmRecord(order)).sampleId;
    expect(sample('O|1|11625^CL-PL-24-0370         ^1^^004|R1')).toBe('11625');
    expect(sample('O|1||^^   27^M')).toBe('27');
    expect(sample('O|1|  ^ ^|S2')).toBe('S2');
    expect(sample('O|1|\\^S3|S4')).toBe('S3');
    expect(sample('O|1|A&S&B')).toBe('A^B');
    expect(sample('O|1')).toBeNull();
  });

  it('takes patientId from P-3 else P-4 else P-5', () => {
    const patient = (p: string) =>
      normalizeResult(new AstmRecord('R|1|^^^A|1'), new AstmRecord(p), null).patientId;
    expect(patient('P|1|P3|P4|P5')).toBe('P3');
    expect(patient('P|1||P4|P5')).toBe('P4');
    expect(patient('P|1|||37182|^Jim^Brown')).toBe('37182');
    expect(patient('P|1| ^ |  |^P5b')).toBe('P5b');
    expect(patient('P|1||||Mohale^Rita')).toBeNull();
  });

  it('reads test codes: 4th component, else the first non-empty after it', () => {
    const code = (test: string) =>
      normalizeResult(new AstmRecord(`R|1|${test}|1`), null, null).testCode;
    expect(code('^^^GLU')).toBe('GLU');
    expect(code('^^^^WBC^1')).toBe('WBC');
    expect(code('^^^685/')).toBe('685/');
    expect(code('^^^WBC^804-5^1')).toBe('WBC');
    expect(code('^MTB-RIF^^Xpert^Xpert MTB-RIF Ultra^4^MTB^')).toBe('Xpert');
    expect(code('^^^ GLU ^x')).toBe('GLU');
    expect(code('^MTB-RIF^^^^^rpoB1^')).toBe('rpoB1');
    expect(code('^^^A&S&B')).toBe('A^B');
    expect(code('^^^GLU\\^^^NA')).toBe('GLU');
    expect(code('GLU')).toBe('GLU');
    expect(code('^LOINC')).toBe('LOINC');
    expect(code('^^^')).toBeNull();
    expect(code('')).toBeNull();
  });

  it('reads value, units, flags, status and observedAt, trimmed, null where absent', () => {
    const read = (r: string) => normalizeResult(new AstmRecord(r), null, null);
    expect(read('R|1|^^^A|  5.5|10*3/uL^SI||N||F||||20240723172452')).toMatchObject({
      value: '5.5',
      units: '10*3/uL',
      flags: 'N',
      status: 'F',
      observedAt: '2024-07-23T17:24:52',
    });
    expect(read('R|1|^^^A|NOT DETECTED^|||||F')).toMatchObject({
      value: 'NOT DETECTED',
      units: null,
      flags: null,
      status: 'F',
      observedAt: null,
    });
    expect(read('R|1|^^^A|^0.0|||')).toMatchObject({ value: '^0.0', status: null });
    expect(read('R|1|^^^A|PNG&R&2024&R&x.png')).toMatchObject({ value: 'PNG\\2024\\x.png' });
    expect(read('R|1|^^^A|<0.1 |  mg/L  ||< ||C ||||20240101')).toMatchObject({
      value: '<0.1',
      units: 'mg/L',
      flags: '<',
      status: 'C',
      observedAt: '2024-01-01',
    });
    expect(read('R|1|^^^A|1||||||||||not a date').observedAt).toBeNull();
    expect(read('R|1')).toEqual({
      sampleId: null,
      patientId: null,
      testCode: null,
      value: null,
      units: null,
      flags: null,
      status: null,
      observedAt: null,
    });
  });
});

describe('comments', () => {
  it('attach to the record before them; several Cs and Ms share that record', () => {
    const m = one(
      [
        'H|\\^&',
        'C|1|L|about header|G',
        'P|1|PA',
        'C|1|L|about patient^more|G',
        'O|1|S1',
        'M|1|ROCHE|x',
        'C|1|I|after M|I',
        'R|1|^^^A|1',
        'C|1|I|first|I',
        'C|2|I|second|I',
        'L|1|N',
      ].join('\r'),
    );
    expect(m.comments).toEqual([
      {
        record: 1,
        attachedTo: 0,
        source: 'L',
        parts: ['about header'],
        text: 'about header',
        kind: 'G',
      },
      {
        record: 3,
        attachedTo: 2,
        source: 'L',
        parts: ['about patient', 'more'],
        text: 'about patient more',
        kind: 'G',
      },
      { record: 6, attachedTo: 4, source: 'I', parts: ['after M'], text: 'after M', kind: 'I' },
      { record: 8, attachedTo: 7, source: 'I', parts: ['first'], text: 'first', kind: 'I' },
      { record: 9, attachedTo: 7, source: 'I', parts: ['second'], text: 'second', kind: 'I' },
    ]);
    expect(m.resultSources[0]!.comments).toEqual([8, 9]);
  });
});

describe('host queries', () => {
  it('reads the worked query Q|1|^SID001||ALL||||||||O', () => {
    const m = one(['H|\\^&', 'Q|1|^SID001||ALL||||||||O', 'L|1|N'].join('\r'));
    expect(m.queries).toEqual([
      {
        record: 1,
        sequence: '1',
        all: false,
        patientId: null,
        specimenIds: ['SID001'],
        startingRange: [['', 'SID001']],
        endingRange: [],
        allTests: true,
        tests: [],
        beginAt: null,
        endAt: null,
        status: 'O',
      },
    ]);
    expect(m.results).toEqual([]);
  });

  it('reads several specimens, named tests, a patient, times and an abort', () => {
    const m = one(
      [
        'H|\\^&',
        'Q|1|PAT9^SID-1\\^SID-2||^^^GLU\\^^^NA||20240101|20240102120000|||||O',
        'Q|2|ALL||||||||||A',
        'Q|3|^^SAMPLE7^0^50001^001^^S1||^^^ALL',
        'L|1|N',
      ].join('\r'),
    );
    expect(m.queries[0]).toMatchObject({
      all: false,
      patientId: 'PAT9',
      specimenIds: ['SID-1', 'SID-2'],
      allTests: false,
      tests: ['GLU', 'NA'],
      beginAt: '2024-01-01',
      endAt: '2024-01-02T12:00:00',
      status: 'O',
    });
    expect(m.queries[1]).toMatchObject({
      all: true,
      patientId: null,
      specimenIds: [],
      allTests: true,
      status: 'A',
    });
    expect(m.queries[2]).toMatchObject({ specimenIds: ['SAMPLE7'], allTests: true, status: null });
  });
});

describe('outbound messages', () => {
  const header: AstmOutboundHeader = {
    sender: ['ACME', 'AN1', '1.0'],
    timestamp: '2024-01-01T12:00:00',
  };

  it('writes the worked example, and layoutFrames gives its verified bytes', () => {
    const records = encodeAstmMessage({
      header,
      patients: [
        {
          laboratoryPatientId: 'PID001',
          name: ['DOE', 'JOHN'],
          birthDate: '1980-01-01',
          sex: 'M',
          orders: [
            {
              specimenId: 'SID001',
              tests: ['GLU'],
              priority: 'R',
              specimenDescriptor: 'SERUM',
              reportType: 'F',
              results: [
                {
                  test: 'GLU',
                  value: '5.4',
                  units: 'mmol/L',
                  referenceRange: '3.9 to 6.1',
                  flags: 'N',
                  completedAt: '20240101115500',
                },
              ],
            },
          ],
        },
      ],
    });
    expect(records).toEqual(WORKED);
    const wire = Buffer.concat(layoutFrames(recordsToBytes(records)).map((f) => f.bytes));
    expect(wire.toString('latin1')).toBe(
      '\x021H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\r\x038D\r\n' +
        '\x022P|1||PID001||DOE^JOHN||19800101|M\r\x0357\r\n' +
        '\x023O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F\r\x03C4\r\n' +
        '\x024R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500\r\x03FC\r\n' +
        '\x025L|1|N\r\x0308\r\n',
    );
  });

  it('answers a host query: H, P, O with O-26 Q, L|1|F; it decodes back', () => {
    const records = encodeQueryAnswer({ ...header, sender: 'LIS' }, [
      {
        patientId: 'PAT9',
        orders: [
          { specimenId: 'SID001', tests: ['GLU', 'NA'], priority: 'R' },
          {
            specimenId: 'SID002',
            tests: [['', '', '', 'K', 'x']],
            reportType: 'O',
            comments: ['fasting'],
          },
        ],
      },
    ]);
    expect(records).toEqual([
      'H|\\^&|||LIS|||||||P|LIS2-A2|20240101120000',
      'P|1|PAT9',
      'O|1|SID001||^^^GLU\\^^^NA|R||||||N||||||||||||||Q',
      'O|2|SID002||^^^K^x|||||||N||||||||||||||O',
      'C|1|L|fasting|G',
      'L|1|F',
    ]);
    const m = one(records.join('\r'));
    expect(m.errors).toEqual([]);
    expect(m.termination).toBe('F');
    expect(m.records[2]!.component(26)).toBe('Q');
    expect(m.comments[0]!.attachedTo).toBe(3);
  });

  it('answers "no information": H, L|1|I, the worked frame L|1|I checksum 00', () => {
    const records = encodeNoInformation({ sender: 'LIS', timestamp: '20240101120001' });
    expect(records).toEqual(['H|\\^&|||LIS|||||||P|LIS2-A2|20240101120001', 'L|1|I']);
    const frames = layoutFrames(recordsToBytes(records));
    expect(frames[1]!.bytes.toString('latin1')).toBe('\x022L|1|I\r\x0300\r\n');
  });

  it('writes a host query like the worked one', () => {
    const records = encodeAstmMessage({ header, queries: [{ specimenIds: ['SID001'] }] });
    expect(records[1]).toBe('Q|1|^SID001||ALL||||||||O');
    const frames = layoutFrames(recordsToBytes(records));
    expect(frames[1]!.bytes.toString('latin1')).toBe('\x022Q|1|^SID001||ALL||||||||O\r\x038B\r\n');
    const more = encodeAstmMessage({
      header,
      queries: [
        { patientId: 'P1', specimenIds: ['A', 'B'], tests: ['GLU'], status: 'O' },
        { all: true, status: 'A' },
        { patientId: 'P2' },
      ],
    });
    expect(more.slice(1, 4)).toEqual([
      'Q|1|P1^A\\^B||^^^GLU||||||||O',
      'Q|2|ALL||ALL||||||||A',
      'Q|3|P2||ALL||||||||O',
    ]);
  });

  it('escapes values and honours custom delimiters', () => {
    const d = { field: '|', repeat: '@', component: '^', escape: '\\' };
    const records = encodeAstmMessage(
      {
        header: { sender: 'GX|LIS' },
        patients: [{ patientId: 'A^B', orders: [{ specimenId: 'S@1', tests: ['T1', 'T2'] }] }],
      },
      d,
    );
    expect(records).toEqual([
      'H|@^\\|||GX\\F\\LIS|||||||P|LIS2-A2',
      'P|1|A\\S\\B',
      'O|1|S\\R\\1||^^^T1@^^^T2|||||||N||||||||||||||O',
      'L|1|N',
    ]);
    const m = one(records.join('\r'));
    expect(m.header!.sender).toBe('GX|LIS');
    expect(m.records[1]!.component(3)).toBe('A^B');
    expect(m.records[2]!.component(3)).toBe('S@1');
  });

  it('turns record text into bytes per record in the chosen encoding', () => {
    expect(recordsToBytes(['R|1|µ'])[0]).toEqual(Buffer.from([0x52, 0x7c, 0x31, 0x7c, 0xb5]));
    expect(recordsToBytes(['R|1|µ'], 'utf8')[0]).toEqual(Buffer.from('R|1|µ', 'utf8'));
  });
});
