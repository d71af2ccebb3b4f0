import { PassThrough } from 'node:stream';
import { runCli } from '../../src-main/headless/cli';

/** Runs the command line in this process: its exit code, what it printed, its non-empty lines. */
export async function cli(argv: string[], stdin = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const input = new PassThrough();
  input.end(stdin);
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(argv, { stdout, stderr, stdin: input });
  return { code, out, err, lines: out.trim().split('\n').filter(Boolean) };
}
