import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeExportFile } from '../../src-main/service/export-file';
import type { ExportPlan } from '../../src-main/service/exports';
import { CommandFailure } from '../../src-main/service/failure';
import { tempDir } from '../support/temp';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

function folder(): string {
  const temp = tempDir();
  cleanups.push(temp.remove);
  return temp.dir;
}

/** A plan of `messages` chunks; `failAt` makes reading the store fail at that message. */
function plan(messages: number, failAt?: number): ExportPlan {
  let count = 0;
  return {
    fileName: 'results.csv',
    mimeType: 'text/csv',
    *chunks() {
      yield 'header\r\n';
      for (let i = 1; i <= messages; i++) {
        if (i === failAt) throw new Error('disk I/O error');
        count++;
        yield `${i},${'x'.repeat(1000)}\r\n`;
      }
    },
    get count() {
      return count;
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<CommandFailure> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CommandFailure);
  return error as CommandFailure;
}

describe('writing an export to a file', () => {
  it('streams every chunk into the file and answers with the number of messages', async () => {
    const dir = folder();
    const file = path.join(dir, 'results.csv');
    expect(await writeExportFile(plan(5_000), file)).toBe(5_000);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    expect(lines).toHaveLength(5_001);
    expect(lines[5_000]).toBe(`5000,${'x'.repeat(1000)}`);
    expect(readdirSync(dir)).toEqual(['results.csv']);
  });

  it('replaces a file of the same name only once the new one is complete', async () => {
    const dir = folder();
    const file = path.join(dir, 'results.csv');
    writeFileSync(file, 'the previous export');
    await writeExportFile(plan(2), file);
    expect(readFileSync(file, 'utf8')).toMatch(/^header\r\n1,/);
  });

  it('names the path and the cause in plain words when the file cannot be written', async () => {
    const file = path.join(folder(), 'no such folder', 'results.csv');
    const failure = await failureOf(writeExportFile(plan(3), file));
    expect(failure.code).toBe('EXPORT_WRITE_FAILED');
    expect(failure.message).toBe(
      `could not write the export to ${file}: the folder does not exist (ENOENT)`,
    );
  });

  it('leaves neither a partial file nor the temporary one when reading the history fails', async () => {
    const dir = folder();
    const file = path.join(dir, 'results.csv');
    writeFileSync(file, 'the previous export');
    const failure = await failureOf(writeExportFile(plan(500, 400), file));
    expect(failure.code).toBe('EXPORT_READ_FAILED');
    expect(failure.message).toBe(
      `could not read the history for the export to ${file}: disk I/O error`,
    );
    expect(readdirSync(dir)).toEqual(['results.csv']);
    expect(readFileSync(file, 'utf8')).toBe('the previous export');
  });

  it('removes the temporary file when the last step, the rename, fails', async () => {
    const dir = folder();
    const file = path.join(dir, 'taken');
    mkdirSync(path.join(file, 'inside'), { recursive: true });
    const failure = await failureOf(writeExportFile(plan(3), file));
    expect(failure.code).toBe('EXPORT_WRITE_FAILED');
    expect(failure.message).toContain(`could not write the export to ${file}: `);
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});
