/** `serve` refuses result settings it cannot follow before anything opens, as any config problem. */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli';
import { tempDir } from '../support/temp';

async function serve(instrument: object) {
  const temp = tempDir();
  try {
    const config = path.join(temp.dir, 'gateway.json');
    const db = path.join(temp.dir, 'never.sqlite');
    writeFileSync(
      config,
      JSON.stringify({
        instruments: [{ id: 'gx1', protocol: 'astm', mode: 'server', port: 15001, ...instrument }],
      }),
    );
    const { code, err } = await cli(['serve', '--config', config, '--db', db]);
    return { code, err, opened: existsSync(db) };
  } finally {
    temp.remove();
  }
}

describe('serve with profile, testCodes and qc settings it cannot follow', () => {
  it('refuses an unknown profile at start-up, naming the field (exit 2)', async () => {
    const result = await serve({ profile: 'genexpert-4' });
    expect(result).toMatchObject({ code: 2, opened: false });
    expect(result.err).toContain('instruments[0].profile: unknown profile "genexpert-4"');
  });

  it('refuses a profile for the other protocol, and doubled LIS codes', async () => {
    const hl7 = await serve({ protocol: 'hl7', profile: 'genexpert' });
    expect(hl7.code).toBe(2);
    expect(hl7.err).toContain(
      'instruments[0].profile: "genexpert" (Cepheid GeneXpert) is a profile',
    );
    const doubled = await serve({ testCodes: { GLU: 'GLUC', GLU2: 'GLUC' } });
    expect(doubled.code).toBe(2);
    expect(doubled.err).toContain('instruments[0].testCodes.GLU2: sends the LIS code "GLUC"');
  });
});
