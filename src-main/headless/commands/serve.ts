import { createGatewayRuntime } from '../../app';
import { UsageError, parseCommandArgs, writeLine, type Io } from '../cli-support';
import { loadConfigFile } from '../config-file';
import { createEventLogger, type LogFormat } from '../log';

const HELP = `Usage: gateway serve --config FILE --db FILE [--log text|json] [--durability full|normal]

Opens every enabled instrument link of the config file and stores every message in the SQLite
file before acknowledging it. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
  --config       the gateway configuration (JSON)
  --db           the SQLite database file (created when missing)
  --log          text (default) or json: log lines on stderr
  --durability   overrides storage.durability of the config`;

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('serve', argv, {
    config: { type: 'string' },
    db: { type: 'string' },
    web: { type: 'string' },
    token: { type: 'string' },
    log: { type: 'string' },
    durability: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`serve: unexpected argument "${positionals[0]}"`);
  if (!values.config) throw new UsageError('serve: --config FILE is required');
  if (!values.db) throw new UsageError('serve: --db FILE is required');
  const format = (values.log ?? 'text') as LogFormat;
  if (format !== 'text' && format !== 'json')
    throw new UsageError('serve: --log must be "text" or "json"');
  if (
    values.durability !== undefined &&
    values.durability !== 'full' &&
    values.durability !== 'normal'
  ) {
    throw new UsageError('serve: --durability must be "full" or "normal"');
  }
  if (values.web !== undefined || values.token !== undefined) {
    throw new UsageError(
      'serve: --web and --token need the browser UI, which this build does not include',
    );
  }
  const config = loadConfigFile(values.config);
  if (values.durability) config.storage.durability = values.durability;

  const log = createEventLogger(format, (line) => io.stderr.write(`${line}\n`));
  const runtime = createGatewayRuntime({ config, dbFile: values.db, onEvent: log });
  const enabled = config.instruments.filter((i) => i.enabled).length;
  io.stderr.write(
    format === 'json'
      ? `${JSON.stringify({ kind: 'ready', instruments: config.instruments.length, enabled, db: values.db })}\n`
      : `gateway running: ${enabled} of ${config.instruments.length} instruments enabled, database ${values.db}\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.stderr.write(
        format === 'json'
          ? `${JSON.stringify({ kind: 'stopping', signal })}\n`
          : `${signal}: stopping…\n`,
      );
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await runtime.close();
  io.stderr.write(format === 'json' ? `${JSON.stringify({ kind: 'stopped' })}\n` : 'stopped\n');
  return 0;
}
