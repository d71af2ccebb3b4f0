#!/usr/bin/env node
/**
 * The `lab-gateway` program: runs one command in this process and leaves its exit code to Node,
 * so that a service manager sees what the command returned. Apart from cli.ts so that tests can
 * import `runCli` without running it, and so that the bundle starts the same way under any name.
 */
import { runCli } from './cli';

let finished = false;
// A command whose work can no longer progress must not pass for a success.
process.once('beforeExit', () => {
  if (finished) return;
  process.stderr.write('Unexpected failure: the command stopped before finishing its work\n');
  process.exitCode = 1;
});
runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
}).then(
  (code) => {
    finished = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    finished = true;
    process.stderr.write(`Unexpected failure: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
