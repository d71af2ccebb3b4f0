import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAstm, type DecodedAstmMessage } from '../../../src-main/protocols/astm/decode';
import { encodeFrame, layoutFrames } from '../../../src-main/protocols/astm/frame';

const ENQ = '\x05';
const EOT = '\x04';
const STX = '\x02';
const ETX = '\x03';
const ETB = '\x17';

function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** A frame with a correct checksum, `C1 C2 CR LF` ending. */
function frame(n: number, text: string, final = true): string {
  return encodeFrame(n, bytes(text), final).toString('latin1');
}

function decode(text: string | Buffer, encoding?: 'latin1' | 'utf8'): DecodedAstmMessage[] {
  const input = typeof text === 'string' ? bytes(text) : text;
  return decodeAstm(input, encoding === undefined ? undefined : { encoding }).messages;
}

function codes(m: DecodedAstmMessage): string[] {
  return m.errors.map((e) => e.code);
}

// The worked session of the protocol notes, byte for byte (checksums verified there).
const H = `${STX}1H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\r${ETX}8D\r\n`;
const P = `${STX}2P|1||PID001||DOE^JOHN||19800101|M\r${ETX}57\r\n`;
const O = `${STX}3O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F\r${ETX}C4\r\n`;
const R = `${STX}4R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500\r${ETX}FC\r\n`;
const L = `${STX}5L|1|N\r${ETX}08\r\n`;
const SESSION = ENQ + H + P + O + R + L + EOT;

const GLUCOSE = {
  sampleId: 'SID001',
  patientId: 'PID001',
  testCode: 'GLU',
  value: '5.4',
  units: 'mmol/L',
  flags: 'N',
  status: 'F',
  observedAt: '2024-01-01T11:55:00',
};

describe('worked examples', () => {
  it('decodes the 5-frame session', () => {
    const [m, ...rest] = decode(SESSION);
    expect(rest).toEqual([]);
    expect(m!.errors).toEqual([]);
    expect(m!.results).toEqual([GLUCOSE]);
    expect(m!.records.map((r) => r.type)).toEqual(['H', 'P', 'O', 'R', 'L']);
    expect(m!.header?.sender).toBe('ACME');
    expect(m!.termination).toBe('N');
  });

  it('decodes the same frames without ENQ and EOT', () => {
    const [m] = decode(H + P + O + R + L);
    expect(m!.errors).toEqual([]);
    expect(m!.results).toEqual([GLUCOSE]);
  });

  it('decodes all five records packed into one frame (checksum D2)', () => {
    const text =
      'H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\rP|1||PID001||DOE^JOHN||19800101|M\r' +
      'O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F\r' +
      'R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500\rL|1|N\r';
    const [m] = decode(`${ENQ}${STX}1${text}${ETX}D2\r\n${EOT}`);
    expect(m!.errors).toEqual([]);
    expect(m!.results).toEqual([GLUCOSE]);
  });

  it('reassembles a record split over an ETB frame', () => {
    const split = `${STX}3R|1|^^^GLU${ETB}C7\r\n${STX}4|5.4|mmol/L\r${ETX}03\r\n`;
    const [m] = decode(ENQ + H + P + split + L + EOT);
    expect(m!.errors).toEqual([]);
    expect(m!.records.map((r) => r.text)).toContain('R|1|^^^GLU|5.4|mmol/L');
    expect(m!.results).toEqual([
      {
        sampleId: null,
        patientId: 'PID001',
        testCode: 'GLU',
        value: '5.4',
        units: 'mmol/L',
        flags: null,
        status: null,
        observedAt: null,
      },
    ]);
  });

  it('follows frame numbers wrapping 7 → 0 → 1', () => {
    const early = [1, 2, 3, 4, 5].map((i) => frame(i + 1, `R|${i}|^^^T${i}|${i}\r`)).join('');
    const wrap =
      `${STX}7R|6|^^^T6|6\r${ETX}1D\r\n` +
      `${STX}0R|7|^^^T7|7\r${ETX}19\r\n` +
      `${STX}1L|1|N\r${ETX}04\r\n`;
    const [m] = decode(ENQ + frame(1, 'H|\\^&\r') + early + wrap + EOT);
    expect(m!.errors).toEqual([]);
    expect(m!.results.map((r) => [r.testCode, r.value])).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((i) => [`T${i}`, String(i)]),
    );
  });

  it('uses the retransmission of a corrupted frame and says so', () => {
    const corrupted = `${STX}2P|1X|PID001||DOE^JOHN||19800101|M\r${ETX}57\r\n`;
    const [m] = decode(ENQ + H + corrupted + P + O + R + L + EOT);
    expect(m!.results).toEqual([GLUCOSE]);
    expect(m!.records).toHaveLength(5);
    expect(m!.errors).toEqual([
      {
        code: 'ASTM_BAD_CHECKSUM',
        message:
          'frame 2 (byte 60): checksum expected 33, got 57; the retransmission that follows was used',
      },
    ]);
  });

  it('keeps the text of a corrupted frame that is never retransmitted', () => {
    const corrupted = `${STX}2P|1X|PID001||DOE^JOHN||19800101|M\r${ETX}57\r\n`;
    const [m] = decode(H + corrupted + O + R + L);
    expect(m!.errors).toEqual([
      { code: 'ASTM_BAD_CHECKSUM', message: 'frame 2 (byte 59): checksum expected 33, got 57' },
    ]);
    expect(m!.results[0]!.patientId).toBe('PID001');
    expect(m!.records[1]!.raw(2)).toBe('1X');
  });

  it('decodes the host query and the "no information" answer as two messages', () => {
    const query =
      ENQ +
      frame(1, 'H|\\^&|||AN1^1.0|||||||P|LIS2-A2|20240101120000\r') +
      `${STX}2Q|1|^SID001||ALL||||||||O\r${ETX}8B\r\n` +
      frame(3, 'L|1|N\r') +
      EOT;
    const answer =
      ENQ +
      frame(1, 'H|\\^&|||LIS|||||||P|LIS2-A2|20240101120001\r') +
      `${STX}2L|1|I\r${ETX}00\r\n` +
      EOT;
    const [q, a, ...rest] = decode(query + answer);
    expect(rest).toEqual([]);
    expect(q!.errors).toEqual([]);
    expect(q!.queries).toMatchObject([
      { patientId: null, specimenIds: ['SID001'], allTests: true, tests: [], status: 'O' },
    ]);
    expect(a!.errors).toEqual([]);
    expect(a!.termination).toBe('I');
    expect(a!.header?.sender).toBe('LIS');
  });

  it('gives two messages for two sessions concatenated', () => {
    const messages = decode(
      SESSION + SESSION.replace('SID001', 'SID002').replace(`${ETX}C4`, `${ETX}C5`),
    );
    expect(messages.map((m) => m.results[0]?.sampleId)).toEqual(['SID001', 'SID002']);
    expect(messages.flatMap((m) => m.errors)).toEqual([]);
  });
});

describe('frames as real devices send them', () => {
  it('accepts C1 C2 LF and C1 C2 CR endings and lowercase checksums', () => {
    const lf = (H + P + O + R + L).replaceAll('\r\n', '\n');
    const cr = (H + P + O + R + L).replaceAll('\r\n', '\r');
    const lower = (H + P + O + R + L)
      .replace(`${ETX}FC`, `${ETX}fc`)
      .replace(`${ETX}8D`, `${ETX}8d`);
    for (const input of [lf, cr, lower]) {
      const [m] = decode(input);
      expect(m!.errors).toEqual([]);
      expect(m!.results).toEqual([GLUCOSE]);
    }
  });

  it('ends the record at ETX even without the record CR', () => {
    const [m] = decode(frame(1, 'H|\\^&') + frame(2, 'R|1|^^^K|4') + frame(3, 'L|1|N'));
    expect(m!.errors).toEqual([]);
    expect(m!.records.map((r) => r.text)).toEqual(['H|\\^&', 'R|1|^^^K|4', 'L|1|N']);
  });

  it('delivers a frame repeated after a lost ACK once', () => {
    const [m] = decode(H + P + P + O + R + R + L);
    expect(m!.errors).toEqual([]);
    expect(m!.records).toHaveLength(5);
  });

  it('reads a one-frame message sent twice as two messages, not a retransmission', () => {
    const whole = frame(1, 'H|\\^&\rR|1|^^^K|4\rL|1|N\r');
    const messages = decode(whole + whole);
    expect(messages).toHaveLength(2);
    expect(messages.flatMap((m) => m.errors)).toEqual([]);
    // The same repeat of a message's last frame under any other number is a retransmission.
    const last = frame(2, 'L|1|N\r');
    expect(decode(frame(1, 'H|\\^&\rR|1|^^^K|4\r', false) + last + last)).toHaveLength(1);
  });

  it('keeps an out-of-sequence frame with ASTM_BAD_FRAME_NUMBER', () => {
    const [m] = decode(
      H + P + O + R.replace(`${STX}4`, `${STX}6`).replace(`${ETX}FC`, `${ETX}FE`) + L,
    );
    expect(m!.results).toEqual([GLUCOSE]);
    expect(m!.errors).toEqual([
      {
        code: 'ASTM_BAD_FRAME_NUMBER',
        message: 'frame 6 (byte 155): expected frame number 4; the text was kept',
      },
      {
        code: 'ASTM_BAD_FRAME_NUMBER',
        message: 'frame 5 (byte 218): expected frame number 7; the text was kept',
      },
    ]);
  });

  it('lets a new transmission restart at frame 1 after an L even without ENQ', () => {
    const messages = decode(H + P + O + R + L + H + P + O + R + L);
    expect(messages).toHaveLength(2);
    expect(messages.flatMap((m) => m.errors)).toEqual([]);
  });

  it('reports a restricted character and keeps the text', () => {
    const [m] = decode(frame(1, 'H|\\^&\r') + frame(2, 'R|1|^^^K|4\x10\r') + frame(3, 'L|1|N\r'));
    expect(m!.errors).toEqual([
      {
        code: 'ASTM_RESTRICTED_CHARACTER',
        message: 'frame 2 (byte 13): restricted character 0x10 in the text',
      },
    ]);
    expect(m!.results[0]!.value).toBe('4\x10');
  });

  it('keeps the text of a frame cut short by EOT, or by the end of the input', () => {
    const cut = `${STX}4R|1|^^^GLU|5.4|mmol`;
    const [m, next] = decode(ENQ + H + P + O + cut + EOT + SESSION);
    expect(codes(m!)).toEqual(['ASTM_BAD_FRAME', 'ASTM_NO_TERMINATOR']);
    expect(next!.errors).toEqual([]);
    expect(next!.results).toEqual([GLUCOSE]);
    expect(m!.errors[0]!.message).toBe(
      'frame 4 (byte 156): cut short by EOT after 19 text bytes; its text was kept',
    );
    expect(m!.results[0]).toMatchObject({ sampleId: 'SID001', value: '5.4', units: 'mmol' });

    const [n] = decode(H + P + O + cut);
    expect(n!.errors[0]!.message).toBe(
      'frame 4 (byte 155): the input ends inside it after 19 text bytes; its text was kept',
    );
    expect(n!.results[0]!.units).toBe('mmol');
  });

  it('keeps the text of a frame without a checksum and reads the frames after it', () => {
    const [m] = decode(H + `${STX}2P|1||PID001\r${ETX}\n` + O + R + L);
    expect(codes(m!)).toEqual(['ASTM_BAD_FRAME']);
    expect(m!.errors[0]!.message).toContain('no two-character checksum after ETX');
    expect(m!.results).toEqual([GLUCOSE]);
  });

  it('reports a frame without a frame number', () => {
    const [m] = decode(H + `${STX}P|1||PID001\r${ETX}` + 'XX\r\n' + O + R + L);
    expect(codes(m!)).toContain('ASTM_BAD_FRAME_NUMBER');
    expect(m!.errors[0]!.message).toContain('no frame number digit after STX');
  });

  it('places transport errors on the message they belong to', () => {
    const bad = R.replace(`${ETX}FC`, `${ETX}00`);
    const messages = decode(SESSION + ENQ + H + P + O + bad + L + EOT);
    expect(messages.map(codes)).toEqual([[], ['ASTM_BAD_CHECKSUM']]);
  });
});

describe('bare records and encodings', () => {
  it('decodes records without any framing, any line ending, stray link bytes ignored', () => {
    const records = [
      'H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000',
      'P|1||PID001||DOE^JOHN||19800101|M',
      'O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F',
      'R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500',
      'L|1|N',
    ];
    for (const end of ['\r', '\r\n', '\n']) {
      const [m] = decode(ENQ + records.join(end) + end + EOT);
      expect(m!.errors).toEqual([]);
      expect(m!.results).toEqual([GLUCOSE]);
    }
  });

  it('reads Latin-1 by default and UTF-8 when asked', () => {
    const text = 'H|\\^&\rR|1|^^^ALB|12|µg/mL\rL|1|N\r';
    expect(decode(Buffer.from(text, 'latin1'))[0]!.results[0]!.units).toBe('µg/mL');
    expect(decode(Buffer.from(text, 'utf8'), 'utf8')[0]!.results[0]!.units).toBe('µg/mL');
    expect(decode(Buffer.from(text, 'utf8'))[0]!.results[0]!.units).toBe('Âµg/mL');
  });

  it('places transport errors correctly when UTF-8 text moves character offsets', () => {
    const first = ['H|\\^&', 'C|1|L|ééééééééééééééééééééééééééééééééé', 'L|1|N'];
    const second = ['H|\\^&', 'R|1|^^^A|1', 'L|1|N'];
    const frames = layoutFrames([...first, ...second].map((r) => Buffer.from(r, 'utf8')));
    const damaged = frames.map((f, i) => {
      if (i !== 4) return f.bytes;
      const copy = Buffer.from(f.bytes);
      copy[copy.length - 4] = 0x30; // first checksum character
      return copy;
    });
    const messages = decodeAstm(Buffer.concat(damaged), { encoding: 'utf8' }).messages;
    expect(messages.map(codes)).toEqual([[], ['ASTM_BAD_CHECKSUM']]);
    expect(messages[0]!.comments[0]!.text).toBe('é'.repeat(33));
  });
});

describe('input that is not ASTM', () => {
  it('says what was found instead, keeps the text, never throws', () => {
    const [m, ...rest] = decode('just some words\r\nand more\r\n');
    expect(rest).toEqual([]);
    expect(m!.records).toEqual([]);
    expect(m!.errors).toEqual([
      {
        code: 'ASTM_NOT_ASTM',
        message:
          'not ASTM: no H record and no line shaped like an ASTM record (a record type letter, then the field delimiter); found 27 bytes of unframed text; its text starts "just some words and more".',
      },
    ]);
    expect(m!.text).toBe('just some words\r\nand more');
  });

  it('points HL7 towards the HL7 decoder', () => {
    const [m] = decode('\x0bMSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rPID|1||X\r\x1c\r');
    expect(m!.errors[0]!.code).toBe('ASTM_NOT_ASTM');
    expect(m!.errors[0]!.message).toContain('decode it as hl7');
  });

  it('gives nothing for empty input or link control bytes alone', () => {
    expect(decode('')).toEqual([]);
    expect(decode(ENQ + EOT + ENQ + EOT)).toEqual([]);
    expect(decode('\r\n  \r\n')).toEqual([]);
  });
});

describe('properties', () => {
  const recordText = fc.array(
    fc.record({
      test: fc.stringMatching(/^[A-Z][A-Z0-9#%/-]{0,7}$/u),
      value: fc.stringMatching(/^[0-9. <>A-Za-z-]{0,12}$/u),
    }),
    { minLength: 1, maxLength: 30 },
  );
  const toRecords = (rows: { test: string; value: string }[]): string[] => [
    'H|\\^&|||SIM^1|||||||P|LIS2-A2|20240101120000',
    'P|1|PAT',
    'O|1|SPEC',
    ...rows.map((r, i) => `R|${i + 1}|^^^${r.test}|${r.value}|u||N||F||||20240101115500`),
    'L|1|N',
  ];

  it('any frame size gives the same results as the bare records (ETB splits anywhere)', () => {
    fc.assert(
      fc.property(recordText, fc.integer({ min: 1, max: 300 }), (rows, size) => {
        const records = toRecords(rows);
        const bare = decode(records.join('\r') + '\r');
        const frames = layoutFrames(
          records.map((r) => bytes(r)),
          size,
        ).map((f) => f.bytes);
        const framed = decodeAstm(Buffer.concat([bytes(ENQ), ...frames, bytes(EOT)])).messages;
        expect(framed).toHaveLength(1);
        expect(framed[0]!.errors).toEqual([]);
        expect(framed[0]!.results).toEqual(bare[0]!.results);
        expect(framed[0]!.results).toHaveLength(rows.length);
      }),
      { numRuns: 150 },
    );
  });

  it('records packed into frames cut at random places decode the same', () => {
    fc.assert(
      fc.property(
        recordText,
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
        fc.constantFrom('\r\n', '\n', '\r'),
        (rows, cuts, ending) => {
          const text = toRecords(rows).join('\r') + '\r';
          let wire = '';
          let at = 0;
          let n = 1;
          for (let k = 0; at < text.length; k++) {
            const size = cuts[k % cuts.length]!;
            const part = text.slice(at, at + size);
            at += size;
            wire += frame(n, part, at >= text.length).replace('\r\n', ending);
            n = (n + 1) % 8;
          }
          const [m, ...rest] = decode(wire);
          expect(rest).toEqual([]);
          expect(m!.errors).toEqual([]);
          expect(m!.results.map((r) => [r.testCode, r.value])).toEqual(
            rows.map((r) => [r.test, r.value.trim() === '' ? null : r.value.trim()]),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (input) => {
        const { messages } = decodeAstm(input);
        for (const m of messages) {
          expect(m.protocol).toBe('astm');
          JSON.stringify(m);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a damaged session never throws and every error has a code and words', () => {
    const pieces = fc.array(
      fc.oneof(
        fc.constantFrom(
          STX,
          ETX,
          ETB,
          ENQ,
          EOT,
          '\r',
          '\n',
          '|',
          '\\',
          '^',
          '&',
          'H|\\^&',
          'L|1|N',
        ),
        fc.string({ unit: 'binary-ascii', maxLength: 8 }),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(SESSION.length), fc.nat(6), pieces), { maxLength: 6 }),
        fc.constantFrom('latin1' as const, 'utf8' as const),
        (edits, encoding) => {
          let text = SESSION;
          for (const [at, remove, insert] of edits) {
            text = text.slice(0, at) + insert.join('') + text.slice(at + remove);
          }
          const { messages } = decodeAstm(bytes(text), { encoding });
          for (const m of messages) {
            for (const e of m.errors) {
              expect(e.code).toMatch(/^ASTM_[A-Z_]+$/u);
              expect(e.message.length).toBeGreaterThan(10);
            }
            JSON.stringify(m);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
