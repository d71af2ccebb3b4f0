import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src-main/headless/cli';
import { tempDir } from '../support/temp';

async function cli(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(argv, { stdout, stderr, stdin });
  return { code, out, err, lines: out.trim().split('\n').filter(Boolean) };
}

const temps: (() => void)[] = [];
afterEach(() => temps.splice(0).forEach((remove) => remove()));
function db(): { file: string; dir: string } {
  const temp = tempDir();
  temps.push(temp.remove);
  return { file: path.join(temp.dir, 'gw.sqlite'), dir: temp.dir };
}

describe('orders on the command line', () => {
  it('adds an order by hand and lists it in the contract form', async () => {
    const { file } = db();
    const added = await cli([
      'orders',
      'add',
      '--db',
      file,
      '--sample',
      'S1',
      '--tests',
      'GLU,CREA',
      '--patient',
      'P1',
      '--instrument',
      'chem1',
    ]);
    expect(added.code).toBe(0);
    const listed = await cli(['orders', '--db', file, '--json']);
    expect(listed.code).toBe(0);
    const order = JSON.parse(listed.lines[0]!) as Record<string, unknown>;
    expect(order).toMatchObject({
      sampleId: 'S1',
      patientId: 'P1',
      tests: ['GLU', 'CREA'],
      instrumentId: 'chem1',
      state: 'pending',
      sentAt: null,
      resultedAt: null,
    });
    expect(typeof order.id).toBe('number');
    expect(new Date(order.receivedAt as string).toISOString()).toBe(order.receivedAt);
    expect((await cli(['orders', '--db', file, '--sample', 'nope', '--json'])).lines).toEqual([]);
    expect((await cli(['orders', '--db', file, '--state', 'sent', '--json'])).lines).toEqual([]);
  });

  it('imports a CSV file and names the lines it could not read', async () => {
    const { file, dir } = db();
    const csv = path.join(dir, 'orders.csv');
    writeFileSync(csv, 'sample,patient,tests\nA1,P1,GLU;CREA\n,P2,NA\n"A3",P3,"K NA"\n');
    const imported = await cli(['orders', 'import', '--db', file, csv]);
    expect(imported.code).toBe(1);
    expect(JSON.parse(imported.lines[0]!)).toEqual({ imported: 2, skipped: 1 });
    expect(imported.err).toContain('orders.csv:3: no sample ID');
    const listed = await cli(['orders', '--db', file, '--json']);
    expect(listed.lines.map((l) => (JSON.parse(l) as { tests: string[] }).tests)).toEqual([
      ['K', 'NA'],
      ['GLU', 'CREA'],
    ]);
  });

  it('answers bad usage with exit 2', async () => {
    const { file } = db();
    expect((await cli(['orders', 'add', '--db', file, '--tests', 'GLU'])).code).toBe(2);
    expect((await cli(['orders', 'add', '--db', file, '--sample', 'S'])).code).toBe(2);
    expect((await cli(['orders', '--db', file, '--state', 'done', '--json'])).code).toBe(2);
    expect((await cli(['orders', '--json'])).code).toBe(2);
  });
});
