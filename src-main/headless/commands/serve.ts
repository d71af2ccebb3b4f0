import { createGatewayRuntime } from '../../app';
import { DemoControl } from '../../demo/demo';
import { UsageError, parseCommandArgs, writeLine, type Io } from '../cli-support';
import { loadConfigFile } from '../config-file';
import { createEventLogger, type LogFormat } from '../log';
import {
  defaultUiDir,
  gatewayVersion,
  keepRunningUntil,
  openWebUi,
  parseWebFlags,
  printableUrl,
  uiIsBuilt,
  waitForStopSignal,
  webUiPort,
} from '../web/cli-options';
import { DownloadRegistry } from '../web/downloads';
import type { WebServer } from '../web/server';

const HELP = `Usage: lab-gateway serve --config FILE --db FILE [--web HOST:PORT] [--token SECRET]
                         [--log text|json] [--durability full|normal]

Opens every enabled instrument link of the config file and stores every message in the SQLite
file before acknowledging it. Stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
  --config       the gateway configuration (JSON)
  --db           the SQLite database file (created when missing)
  --web          also serve the UI to browsers on HOST:PORT (e.g. 127.0.0.1:8080; port 0: any)
  --token        the access token browsers must present; required unless HOST is loopback
                 (open http://HOST:PORT/?token=SECRET once, or type it on the sign-in page)
  --ui           the built UI folder (default: dist/renderer of the gateway's folder)
  --log          text (default) or json: log lines on stderr
  --durability   overrides storage.durability of the config`;

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('serve', argv, {
    config: { type: 'string' },
    db: { type: 'string' },
    web: { type: 'string' },
    token: { type: 'string' },
    ui: { type: 'string' },
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
  const web = parseWebFlags('serve', values.web, values.token);
  const config = loadConfigFile(values.config);
  if (values.durability) config.storage.durability = values.durability;

  const say = (record: Record<string, unknown>, text: string) =>
    io.stderr.write(format === 'json' ? `${JSON.stringify(record)}\n` : `${text}\n`);
  const log = createEventLogger(format, (line) => io.stderr.write(`${line}\n`));
  // Simulated analyzers have no place beside real ones: the demo is offered to an empty gateway.
  const offerDemo = config.instruments.length === 0;
  const demo: { control?: DemoControl } = {};
  const downloads = new DownloadRegistry();
  let server: WebServer | null = null;
  const runtime = createGatewayRuntime({
    reservedPorts: () => (server ? [webUiPort(server)] : []),
    config,
    configFile: values.config,
    dbFile: values.db,
    onEvent: log,
    runtime: 'browser',
    version: gatewayVersion(),
    deliverExport: async (plan) => downloads.register(plan),
    ...(offerDemo
      ? { startDemo: (gateway) => (demo.control ??= new DemoControl(gateway)).start() }
      : {}),
  });
  const stopSignal = waitForStopSignal();
  const enabled = config.instruments.filter((i) => i.enabled).length;
  say(
    { kind: 'ready', instruments: config.instruments.length, enabled, db: values.db },
    `gateway running: ${enabled} of ${config.instruments.length} instruments enabled, database ${values.db}`,
  );

  if (web) {
    const uiDir = values.ui ?? defaultUiDir();
    try {
      server = await openWebUi('serve', web, runtime.service, downloads, uiDir, (line) =>
        say({ kind: 'web-note', message: line }, `web: ${line}`),
      );
    } catch (error) {
      await runtime.close();
      throw error;
    }
    const url = printableUrl(server, web.token !== undefined);
    if (!uiIsBuilt(uiDir)) {
      say(
        { kind: 'web-note', message: 'the UI is not built: run npm run build' },
        `web: the UI is not built (${uiDir} has no index.html): run npm run build`,
      );
    }
    say(
      { kind: 'web', url, token: web.token !== undefined },
      web.token === undefined
        ? `web UI at ${url}`
        : `web UI at ${url} (<TOKEN>: the --token value; the browser then keeps a session cookie)`,
    );
  }

  const signal = await keepRunningUntil(stopSignal);
  say({ kind: 'stopping', signal }, `${signal}: stopping…`);
  await server?.close();
  await demo.control?.stop();
  await runtime.close();
  say({ kind: 'stopped' }, 'stopped');
  return 0;
}
