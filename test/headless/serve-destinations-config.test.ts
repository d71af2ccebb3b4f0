/** `serve` refuses destinations it cannot use before anything opens, naming the field (exit 2). */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src-shared/config';
import { cli } from '../support/cli';
import { tempDir } from '../support/temp';

async function serve(config: object) {
  const temp = tempDir();
  try {
    const file = path.join(temp.dir, 'gateway.json');
    const db = path.join(temp.dir, 'never.sqlite');
    writeFileSync(file, JSON.stringify(config));
    const { code, err } = await cli(['serve', '--config', file, '--db', db]);
    return { code, err, opened: existsSync(db) };
  } finally {
    temp.remove();
  }
}

const instrument = { id: 'chem1', protocol: 'astm', mode: 'server', port: 15001 };
const lis = { id: 'lis', type: 'hl7', host: '127.0.0.1', port: 2575 };

describe('destinations in the configuration file', () => {
  it('refuses a forwardTo naming an unknown destination at start-up (exit 2, field named)', async () => {
    const result = await serve({
      instruments: [{ ...instrument, forwardTo: ['lis', 'lims'] }],
      destinations: [lis],
    });
    expect(result).toMatchObject({ code: 2, opened: false });
    expect(result.err).toContain(
      'instruments[0].forwardTo[1]: names the destination "lims", which does not exist; the destinations are "lis"',
    );
  });

  it('refuses a qc.forwardTo naming an unknown destination, and doubled destination ids', async () => {
    const qc = await serve({ instruments: [{ ...instrument, qc: { forwardTo: ['qc-lis'] } }] });
    expect(qc).toMatchObject({ code: 2, opened: false });
    expect(qc.err).toContain(
      'instruments[0].qc.forwardTo[0]: names the destination "qc-lis", which does not exist; no destinations are configured',
    );
    const doubled = await serve({ instruments: [instrument], destinations: [lis, lis] });
    expect(doubled.code).toBe(2);
    expect(doubled.err).toContain('destinations[1].id: duplicate id "lis"');
  });

  it('reads each destination type with its defaults, and names a bad field', () => {
    const parsed = parseGatewayConfig({
      instruments: [{ ...instrument, forwardTo: ['lis', 'lims', 'archive'] }],
      destinations: [
        lis,
        { id: 'lims', type: 'http', url: 'https://lims.example/api/results', format: 'fhir' },
        { id: 'archive', type: 'file', directory: '/var/lib/lab-gateway/out' },
      ],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const [hl7, http, file] = parsed.config.destinations;
    expect(hl7).toMatchObject({
      enabled: true,
      ackTimeoutMs: 30_000,
      window: 1,
      passthrough: false,
      alarmAfterMs: 600_000,
      retry: { initialDelayMs: 1_000, maxDelayMs: 300_000 },
    });
    expect(http).toMatchObject({ format: 'fhir', timeoutMs: 30_000, headersFromEnv: {} });
    expect(file).toMatchObject({ format: 'hl7' });
    expect(parsed.config.instruments[0]!.forwardTo).toEqual(['lis', 'lims', 'archive']);

    const bad = parseGatewayConfig({
      instruments: [instrument],
      destinations: [
        { id: 'x', type: 'smtp' },
        {
          id: 'y',
          type: 'http',
          url: 'ftp://nope',
          headersFromEnv: { Authorization: 'not a var' },
        },
      ],
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const fields = bad.problems.map((p) => `${p.field}: ${p.message}`);
    expect(fields).toContain('destinations[0].type: must have "type" "hl7", "http" or "file"');
    expect(fields).toContain('destinations[1].url: must be an http:// or https:// URL');
    expect(fields).toContain(
      'destinations[1].headersFromEnv.Authorization: must be the name of an environment variable',
    );
  });
});
