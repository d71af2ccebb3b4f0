/**
 * Writes an export plan into a file as it is read from the store. The file appears only once
 * complete: the chunks go into a temporary file beside it, renamed at the end, and removed when
 * anything fails, so a half-written export never sits where the user expects the real one.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { ExportPlan } from './exports';
import { CommandFailure } from './failure';
import { ChunkSourceError, writeChunks } from './write-chunks';

/** Writes the plan to `file` (replacing it) and returns how many messages it holds. */
export async function writeExportFile(plan: ExportPlan, file: string): Promise<number> {
  const temp = temporaryName(file);
  let stream: WriteStream | null = null;
  try {
    // `wx`: never write through a file someone else created under the temporary name.
    stream = createWriteStream(temp, { flags: 'wx' });
    await writeChunks(plan.chunks(), stream);
    if (!stream.closed) await once(stream, 'close');
    await rename(temp, file);
    return plan.count;
  } catch (error) {
    if (stream) await discard(stream);
    await rm(temp, { force: true }).catch(() => undefined);
    throw exportFailure(error, file);
  }
}

/** Closes the file without writing more; what it still reports is moot, the export failed. */
async function discard(stream: WriteStream): Promise<void> {
  stream.on('error', () => undefined);
  if (stream.closed) return;
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  stream.destroy();
  await closed;
}

/** Beside the target, so that the rename stays on one file system. */
function temporaryName(file: string): string {
  const suffix = randomBytes(6).toString('hex');
  return path.join(path.dirname(file), `.${path.basename(file)}.${suffix}.part`);
}

function exportFailure(error: unknown, file: string): CommandFailure {
  if (error instanceof ChunkSourceError) {
    return new CommandFailure(
      'EXPORT_READ_FAILED',
      `could not read the history for the export to ${file}: ${error.message}`,
    );
  }
  return new CommandFailure(
    'EXPORT_WRITE_FAILED',
    `could not write the export to ${file}: ${fileProblem(error)}`,
  );
}

const FILE_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'the folder does not exist',
  ENOTDIR: 'part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the disk is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EISDIR: 'a folder has that name',
  EBUSY: 'the file is in use by another program',
  ENAMETOOLONG: 'the name is too long',
};

/** The cause in plain words, with the system's code for whoever digs further. */
function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const words = code !== undefined ? FILE_PROBLEMS[code] : undefined;
  if (words) return `${words} (${code})`;
  return error instanceof Error ? error.message : String(error);
}
