import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli';
import { tempDir } from '../support/temp';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../fixtures/astm');

describe('the command line', () => {
  it('refuses a bad configuration before opening anything, naming the field (exit 2)', async () => {
    const temp = tempDir();
    try {
      const config = path.join(temp.dir, 'bad.json');
      writeFileSync(
        config,
        JSON.stringify({
          instruments: [{ id: 'x', protocol: 'astm', mode: 'server', port: 99999 }],
        }),
      );
      const db = path.join(temp.dir, 'never.sqlite');
      const result = await cli(['serve', '--config', config, '--db', db]);
      expect(result.code).toBe(2);
      expect(result.err).toContain('instruments[0].port: must be between 1 and 65535');
      const { existsSync } = await import('node:fs');
      expect(existsSync(db)).toBe(false);
    } finally {
      temp.remove();
    }
  });

  it('answers bad usage with exit 2 and plain words', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const noProtocol = await cli(['decode', 'mllp']);
    expect(noProtocol.code).toBe(2);
    expect(noProtocol.err).toContain('the protocol must be "astm" or "hl7"');
    const both = await cli(['simulate', 'hl7', '--connect', '127.0.0.1:1', '--listen', '2']);
    expect(both.code).toBe(2);
    expect((await cli(['messages', '--db', 'x.sqlite'])).code).toBe(2);
  });

  it('decodes ASTM from stdin and HL7 from a file, one JSON object per message', async () => {
    const astm = await cli(
      ['decode', 'astm'],
      '\x05\x021H|\\^&|||ACME^AN1^1.0|||||||P|LIS2-A2|20240101120000\r\x038D\r\n' +
        '\x022P|1||PID001||DOE^JOHN||19800101|M\r\x0357\r\n' +
        '\x023O|1|SID001||^^^GLU|R||||||N||||SERUM||||||||||F\r\x03C4\r\n' +
        '\x024R|1|^^^GLU|5.4|mmol/L|3.9 to 6.1|N||F||||20240101115500\r\x03FC\r\n' +
        '\x025L|1|N\r\x0308\r\n\x04',
    );
    expect(astm.code).toBe(0);
    const lines = astm.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      protocol: 'astm',
      errors: [],
      results: [
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
      ],
    });
    const temp = tempDir();
    try {
      const file = path.join(temp.dir, 'two.hl7');
      writeFileSync(
        file,
        '\x0bMSH|^~\\&|A|B|C|D|20240101120000||ORU^R01|M1|P|2.5.1\rPID|1||P9\rOBR|1||S9\rOBX|1|NM|K||4.1|mmol/L|||||F\x1c\r' +
          '\x0bMSH|^~\\&|A|B|C|D|20240101120100||ORU^R01|M2|P|2.5.1\rOBR|1||S10\rOBX|1|NM|NA||140|mmol/L|||||F\x1c\r',
      );
      const hl7 = await cli(['decode', 'hl7', file]);
      expect(hl7.code).toBe(0);
      const messages = hl7.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { results: unknown[] });
      expect(messages.map((m) => m.results)).toEqual([
        [expect.objectContaining({ sampleId: 'S9', patientId: 'P9', testCode: 'K', value: '4.1' })],
        [
          expect.objectContaining({
            sampleId: 'S10',
            patientId: null,
            testCode: 'NA',
            value: '140',
          }),
        ],
      ]);
    } finally {
      temp.remove();
    }
  });

  it('says clearly when the input is not the protocol (exit 1)', async () => {
    const result = await cli(
      ['decode', 'astm'],
      '\x0224/10/29 13:08 ID# 1DC042FP   [B. Plasma] Na  131 mmol/L\x03\n',
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain('ASTM_NOT_ASTM');
    expect(JSON.parse(result.out.trim())).toMatchObject({ protocol: 'astm', results: [] });
    expect((await cli(['decode', 'astm', path.join(fixtures, 'does-not-exist.txt')])).code).toBe(1);
  });
});
