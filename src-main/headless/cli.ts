/**
 * The gateway's command line: `serve`, `simulate`, `decode`, `messages`, `demo`. Exit codes:
 * 0 success, 1 failure at run time, 2 bad usage or configuration. Data on stdout, plain words on
 * stderr.
 */
import { pathToFileURL } from 'node:url';
import { RunError, UsageError, type CommandFn, type Io } from './cli-support';
import { decodeCommand } from './commands/decode';

const USAGE = `Lab Gateway: ASTM and HL7 instrument links, stored in SQLite before every acknowledgement.

Usage:
  gateway serve --config FILE --db FILE [--web HOST:PORT] [--token SECRET] [--log text|json]
  gateway simulate astm|hl7 (--connect HOST:PORT | --listen PORT) [--messages N] [--results K] [--concurrency C]
  gateway decode astm|hl7 [FILE]            (stdin when FILE is absent or -)
  gateway messages --db FILE [--instrument ID] [--search TEXT] [--limit N] --json
  gateway demo [--web HOST:PORT] [--token SECRET] [--db FILE]   (simulated analyzers + the UI)

Run "gateway COMMAND --help" for the options of one command.`;

const commands: Record<string, () => Promise<CommandFn>> = {
  decode: async () => decodeCommand,
  serve: async () => (await import('./commands/serve')).serveCommand,
  simulate: async () => (await import('./commands/simulate')).simulateCommand,
  messages: async () => (await import('./commands/messages')).messagesCommand,
  demo: async () => (await import('./commands/demo')).demoCommand,
};

export async function runCli(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    io.stderr.write(`Unknown command "${name}".\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`${error instanceof RunError ? '' : 'Unexpected failure: '}${message}\n`);
    return 1;
  }
}

const isEntry = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
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
}
