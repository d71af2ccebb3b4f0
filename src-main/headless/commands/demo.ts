import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGatewayRuntime } from '../../app';
import { DemoControl } from '../../demo/demo';
import { UsageError, parseCommandArgs, requireInt, writeLine, type Io } from '../cli-support';
import { createEventLogger, type LogFormat } from '../log';
import {
  defaultUiDir,
  gatewayVersion,
  openWebUi,
  parseWebFlags,
  printableUrl,
  uiIsBuilt,
  waitForStopSignal,
  webUiPort,
} from '../web/cli-options';
import { DownloadRegistry } from '../web/downloads';
import type { WebServer } from '../web/server';

const HELP = `Usage: lab-gateway demo [--web HOST:PORT] [--token SECRET] [--db FILE] [--interval-ms N]
                    [--log text|json]

A gateway with two simulated analyzers on this machine, one ASTM (the analyzer connects to a
server link) and one HL7 (the gateway's client link connects to the analyzer), each sending a
result message every few seconds, and the UI served to a browser. Stops on Ctrl-C.
  --web          where to serve the UI (default 127.0.0.1:8080; port 0: any free port)
  --token        the access token browsers must present; required unless HOST is loopback
  --db           keep the history in this SQLite file; instruments saved in it start too
                 (default: a new file in the temporary folder, removed when the demo stops)
  --interval-ms  pause between messages of each analyzer (default 3000)
  --ui           the built UI folder (default: dist/renderer of the gateway's folder)
  --log          text (default) or json: log lines on stderr`;

export async function demoCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('demo', argv, {
    web: { type: 'string' },
    token: { type: 'string' },
    db: { type: 'string' },
    'interval-ms': { type: 'string' },
    ui: { type: 'string' },
    log: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    writeLine(io.stdout, HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`demo: unexpected argument "${positionals[0]}"`);
  const format = (values.log ?? 'text') as LogFormat;
  if (format !== 'text' && format !== 'json')
    throw new UsageError('demo: --log must be "text" or "json"');
  const intervalMs = requireInt('demo', 'interval-ms', values['interval-ms'], 3_000, 50);
  const web = parseWebFlags('demo', values.web ?? '127.0.0.1:8080', values.token)!;
  const uiDir = values.ui ?? defaultUiDir();

  const tempFolder =
    values.db === undefined ? mkdtempSync(path.join(os.tmpdir(), 'lab-gateway-demo-')) : null;
  const dbFile = values.db ?? path.join(tempFolder!, 'demo.sqlite');
  const say = (record: Record<string, unknown>, text: string) =>
    io.stderr.write(format === 'json' ? `${JSON.stringify(record)}\n` : `${text}\n`);
  const demo: { control?: DemoControl } = {};
  const downloads = new DownloadRegistry();
  let server: WebServer | undefined;
  const runtime = createGatewayRuntime({
    reservedPorts: () => (server ? [webUiPort(server)] : []),
    dbFile,
    onEvent: createEventLogger(format, (line) => io.stderr.write(`${line}\n`)),
    runtime: 'browser',
    version: gatewayVersion(),
    deliverExport: async (plan) => downloads.register(plan),
    startDemo: (gateway) => (demo.control ??= new DemoControl(gateway, { intervalMs })).start(),
  });
  const stopSignal = waitForStopSignal();
  const shutDown = async () => {
    await demo.control?.stop();
    await runtime.close();
    if (tempFolder) rmSync(tempFolder, { recursive: true, force: true });
  };

  try {
    const started = await runtime.service.dispatch('startDemo', {});
    if (!started.ok) throw new Error(started.error.message);
    say(
      { kind: 'demo', instrumentIds: started.value.instrumentIds, db: dbFile },
      `demo instruments ${started.value.instrumentIds.join(' and ')} running, database ${dbFile}`,
    );
    server = await openWebUi('demo', web, runtime.service, downloads, uiDir, (line) =>
      say({ kind: 'web-note', message: line }, `web: ${line}`),
    );
  } catch (error) {
    await shutDown();
    throw error;
  }
  if (!uiIsBuilt(uiDir)) {
    say(
      { kind: 'web-note', message: 'the UI is not built: run npm run build' },
      `web: the UI is not built (${uiDir} has no index.html): run npm run build`,
    );
  }
  const url = printableUrl(server, web.token !== undefined);
  say({ kind: 'web', url, token: web.token !== undefined }, `Open ${url} in a browser`);

  const signal = await stopSignal;
  say({ kind: 'stopping', signal }, `${signal}: stopping…`);
  await server.close();
  await shutDown();
  say({ kind: 'stopped' }, 'stopped');
  return 0;
}
