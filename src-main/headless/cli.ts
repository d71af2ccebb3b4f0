/**
 * The gateway's command line: `serve`, `simulate`, `decode`, `messages`, `orders`, `outbox`, `resend`,
 * `hold`, `release`, `demo`. Exit codes:
 * 0 success, 1 failure at run time, 2 bad usage or configuration. Data on stdout, plain words on
 * stderr. main.ts runs it as the `lab-gateway` program; tests call `runCli` directly.
 */
import { RunError, UsageError, type CommandFn, type Io } from './cli-support';

const USAGE = `Lab Gateway: ASTM and HL7 instrument links, stored in SQLite before every acknowledgement.

Usage:
  lab-gateway serve --config FILE --db FILE [--web HOST:PORT] [--token SECRET] [--log text|json]
  lab-gateway simulate astm|hl7 (--connect HOST:PORT | --listen PORT) [--messages N] [--results K] [--concurrency C]
  lab-gateway decode astm|hl7 [FILE]            (stdin when FILE is absent or -)
  lab-gateway messages --db FILE [--instrument ID] [--search TEXT] [--limit N] --json
  lab-gateway orders --db FILE [--sample ID] [--state S] --json
  lab-gateway orders add --db FILE --sample ID --tests GLU,CREA [--patient ID] [--instrument ID]
  lab-gateway orders import --db FILE FILE.csv
  lab-gateway outbox --db FILE [--destination ID] [--state S] [--limit N] --json
  lab-gateway resend --db FILE (--message ID | --failed) [--destination ID]
  lab-gateway hold|release --db FILE --destination ID
  lab-gateway demo [--web HOST:PORT] [--token SECRET] [--db FILE]   (simulated analyzers + the UI)

Run "lab-gateway COMMAND --help" for the options of one command.`;

const commands: Record<string, () => Promise<CommandFn>> = {
  decode: async () => (await import('./commands/decode')).decodeCommand,
  serve: async () => (await import('./commands/serve')).serveCommand,
  simulate: async () => (await import('./commands/simulate')).simulateCommand,
  messages: async () => (await import('./commands/messages')).messagesCommand,
  orders: async () => (await import('./commands/orders')).ordersCommand,
  outbox: async () => (await import('./commands/outbox')).outboxCommand,
  resend: async () => (await import('./commands/outbox')).resendCommand,
  hold: async () => (await import('./commands/outbox')).holdCommand('hold'),
  release: async () => (await import('./commands/outbox')).holdCommand('release'),
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
