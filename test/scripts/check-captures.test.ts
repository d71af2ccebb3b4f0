import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CaptureExpectation } from '../../scripts/capture-compare';
import { KNOWN_CAPTURES } from '../../scripts/captures-expected';
import { runCheckCaptures } from '../../scripts/check-captures';
import { tempDir } from '../support/temp';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(here, '../fixtures/astm');
const SCRIPT = path.resolve(here, '../../scripts/check-captures.ts');

/** What the repository's one-frame-cr.astm fixture decodes to. */
const ONE_FRAME: CaptureExpectation = {
  device: 'Glyco 4',
  recordTypes: 'HPORL',
  records: [{ record: 2, type: 'O', field: 5, components: ['', '', '', 'HbA1c'] }],
  header: { sender: 'Glyco 4 Analyzer', processingId: 'P', timestamp: '2025-09-04T10:15:00' },
  resultCount: 1,
  results: {
    0: {
      sampleId: '12',
      patientId: '7719',
      testCode: 'HbA1c',
      value: '6.3',
      units: '%',
      flags: null,
      status: 'F',
      observedAt: '2025-09-04T10:08:44',
    },
  },
  resultSources: { 0: { record: 3, comments: [] } },
  errors: [],
  termination: 'N',
};

const folders: (() => void)[] = [];
afterEach(() => {
  for (const remove of folders.splice(0)) remove();
});

/** A temporary folder holding repository fixtures under the names given: `{ name: fixture }`. */
function folderWith(files: Record<string, string>): string {
  const { dir, remove } = tempDir('labgw-captures-');
  folders.push(remove);
  for (const [name, fixture] of Object.entries(files)) {
    copyFileSync(path.join(FIXTURES, fixture), path.join(dir, name));
  }
  return dir;
}

function run(argv: string[], expectations?: Record<string, CaptureExpectation>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCheckCaptures(
    argv,
    { out: (line) => out.push(line), err: (line) => err.push(line) },
    expectations,
  );
  return { code, out, err: err.join('\n') };
}

describe('npm run check:captures -- DIR', () => {
  it('passes a capture that decodes as expected, and says how many did', () => {
    const dir = folderWith({ 'glyco.txt': 'one-frame-cr.astm' });
    expect(run([dir], { 'glyco.txt': ONE_FRAME })).toEqual({
      code: 0,
      out: ['pass glyco.txt (Glyco 4)', '1 of 1 captures decode as expected'],
      err: '',
    });
  });

  it('fails a capture that decodes differently, saying each difference in plain words', () => {
    const dir = folderWith({ 'glyco.txt': 'one-frame-cr.astm' });
    const expected: CaptureExpectation = {
      ...ONE_FRAME,
      recordTypes: 'HPORCL',
      records: [{ record: 2, field: 5, components: ['', '', '', 'HbA1d'] }],
      header: { ...ONE_FRAME.header, processingId: 'T' },
      resultCount: 2,
      results: { 0: { ...ONE_FRAME.results![0], value: '6.4' } },
      resultSources: { 0: { comments: [4] } },
      errors: ['ASTM_NO_TERMINATOR'],
      termination: 'T',
    };
    const { code, out } = run([dir], { 'glyco.txt': expected });
    expect(code).toBe(1);
    expect(out).toEqual([
      'FAIL glyco.txt (Glyco 4): ' +
        [
          'record types: "HPORL", expected "HPORCL"',
          'records[2] field 5 components: ["","","","HbA1c"], expected ["","","","HbA1d"]',
          'header processingId: "P", expected "T"',
          'results: 1, expected 2',
          'results[0].value: "6.3", expected "6.4"',
          'resultSources[0].comments: [], expected [4]',
          'errors: [], expected ["ASTM_NO_TERMINATOR"]',
          'termination: "N", expected "T"',
        ].join('; '),
      '0 of 1 captures decode as expected',
    ]);
  });

  it('checks the text and first error of input that is not ASTM', () => {
    const dir = folderWith({ 'report.txt': 'fixed-width-report.txt' });
    const expected: CaptureExpectation = {
      device: 'a printer',
      recordCount: 0,
      resultCount: 0,
      errors: ['ASTM_NOT_ASTM'],
      firstErrorContains: ['25/08/30 15:42 ID# 2KQ07TX', 'an HL7 message'],
      textStart: '25/08/30 15:42',
      textContains: ['K        4.3  mmol/L', 'Ca'],
    };
    const { code, out } = run([dir], { 'report.txt': expected });
    expect(code).toBe(1);
    expect(out[0]).toMatch(
      /^FAIL report\.txt \(a printer\): first error does not say "an HL7 message": "not ASTM: .*"; text does not contain "Ca"$/u,
    );
    expect(out[1]).toBe('0 of 1 captures decode as expected');
  });

  it('fails a known capture missing from DIR and lists files it has no expectations for', () => {
    const dir = folderWith({ 'glyco.txt': 'one-frame-cr.astm', 'notes.md': 'README.md' });
    const { code, out } = run([dir], {
      'glyco.txt': ONE_FRAME,
      'absent.txt': { ...ONE_FRAME, device: 'Nowhere 1' },
    });
    expect(code).toBe(1);
    expect(out).toEqual([
      'pass glyco.txt (Glyco 4)',
      `FAIL absent.txt (Nowhere 1): not found in ${dir}`,
      'not checked notes.md: no expectations are kept for it',
      '1 of 2 captures decode as expected',
    ]);
  });

  it('compares with the expectations kept for the real recordings', () => {
    expect(Object.keys(KNOWN_CAPTURES)).toHaveLength(11);
    // A fixture of ours under a recording's name: the same layout, none of the same content.
    const dir = folderWith({ 'abbott_afinion2.txt': 'one-frame-cr.astm' });
    const { code, out } = run([dir]);
    expect(code).toBe(1);
    expect(out[0]).toMatch(
      /^FAIL abbott_afinion2\.txt \(Abbott Afinion 2\): header sender: "Glyco 4 Analyzer", expected "Afinion 2 Analyzer"; /u,
    );
    expect(out[0]).toContain('results[0].value: "6.3", expected "5.9"');
    expect(out.filter((line) => line.endsWith(': not found in ' + dir))).toHaveLength(10);
    expect(out.at(-1)).toBe('0 of 11 captures decode as expected');
  });

  it('never closes with a line a test runner would count as its own', () => {
    const dir = folderWith({ 'glyco.txt': 'one-frame-cr.astm' });
    for (const expectations of [{ 'glyco.txt': ONE_FRAME }, KNOWN_CAPTURES]) {
      for (const line of run([dir], expectations).out) {
        expect(line).not.toMatch(/\d+ passed, \d+ failed/u);
      }
    }
  });

  it('exits 2 without a folder, with two, or when DIR is not a folder', () => {
    const dir = folderWith({ 'glyco.txt': 'one-frame-cr.astm' });
    expect(run([])).toMatchObject({ code: 2, out: [], err: expect.stringMatching(/^Usage: /u) });
    expect(run([dir, dir])).toMatchObject({ code: 2, out: [] });
    expect(run([path.join(dir, 'missing')])).toEqual({
      code: 2,
      out: [],
      err: `check:captures: there is no folder at ${path.join(dir, 'missing')}`,
    });
    expect(run([path.join(dir, 'glyco.txt')])).toMatchObject({ code: 2, out: [] });
  });

  it('runs as a command: its exit code and closing line', () => {
    const dir = folderWith({ 'glyco.txt': 'one-frame-cr.astm' });
    writeFileSync(path.join(dir, 'empty.txt'), '');
    const checked = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, dir], {
      encoding: 'utf8',
    });
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(1);
    const lines = checked.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(11 + 2 + 1);
    expect(lines.at(-1)).toBe('0 of 11 captures decode as expected');
  });
});
