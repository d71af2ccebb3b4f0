import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseGatewayConfig, type GatewayConfig } from '../../src-shared/config';
import { createGatewayRuntime, type GatewayRuntime } from '../../src-main/app';
import type { GatewayEvent } from '../../src-main/gateway/events';
import { tempDir } from '../support/temp';

const temp = tempDir();
const running: GatewayRuntime[] = [];
afterAll(() => temp.remove());
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close(1_000);
});

function config(instruments: unknown[]): GatewayConfig {
  const parsed = parseGatewayConfig({ instruments });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

const fileChem = {
  id: 'chem1',
  protocol: 'astm',
  mode: 'client',
  host: '127.0.0.1',
  port: 1,
  enabled: false,
};
const fileHema = {
  id: 'hema1',
  protocol: 'hl7',
  mode: 'client',
  host: '127.0.0.1',
  port: 2,
  enabled: false,
};
const uiUrine = {
  id: 'urine1',
  protocol: 'astm',
  mode: 'client',
  host: '127.0.0.1',
  port: 3,
  enabled: false,
};

function start(db: string, file: GatewayConfig | undefined, events: GatewayEvent[] = []) {
  const runtime = createGatewayRuntime({
    dbFile: db,
    ...(file ? { config: file, configFile: '/etc/lab-gateway/gateway.json' } : {}),
    onEvent: (event) => events.push(event),
  });
  running.push(runtime);
  return runtime;
}

async function stop(runtime: GatewayRuntime): Promise<void> {
  running.splice(running.indexOf(runtime), 1);
  await runtime.close(1_000);
}

describe('instruments from the configuration file and from the UI', () => {
  it('keeps an instrument added in the UI across a restart with the same file', async () => {
    const db = path.join(temp.dir, 'keep.sqlite');
    const first = start(db, config([fileChem]));
    const created = await first.service.dispatch('createInstrument', { config: uiUrine });
    expect(created.ok).toBe(true);
    await stop(first);

    const second = start(db, config([fileChem]));
    const list = await second.service.dispatch('listInstruments', {});
    expect(list.ok && list.value.map((s) => [s.id, s.managedBy])).toEqual([
      ['chem1', 'file'],
      ['urine1', 'app'],
    ]);
  });

  it('refuses to edit, disable or delete an instrument of the file, and says where to change it', async () => {
    const runtime = start(path.join(temp.dir, 'readonly.sqlite'), config([fileChem]));
    const update = await runtime.service.dispatch('updateInstrument', {
      config: { ...fileChem, port: 9 },
    });
    expect(update).toEqual({
      ok: false,
      error: {
        code: 'MANAGED_BY_FILE',
        message:
          '"chem1" is set up in the configuration file /etc/lab-gateway/gateway.json; change it there and restart the gateway',
      },
    });
    for (const [command, payload] of [
      ['deleteInstrument', { id: 'chem1' }],
      ['setInstrumentEnabled', { id: 'chem1', enabled: true }],
    ] as const) {
      const outcome = await runtime.service.dispatch(command, payload);
      expect(outcome.ok ? null : outcome.error.code).toBe('MANAGED_BY_FILE');
    }
    expect(runtime.gateway.config('chem1')?.port).toBe(1);
    const info = await runtime.service.dispatch('getAppInfo', {});
    expect(info.ok && info.value.configFile).toBe('/etc/lab-gateway/gateway.json');
  });

  it('forgets what the file no longer names, and logs the settings a file instrument replaces', async () => {
    const db = path.join(temp.dir, 'replace.sqlite');
    const first = start(db, config([fileChem, fileHema]));
    await first.service.dispatch('createInstrument', { config: uiUrine });
    await stop(first);

    const events: GatewayEvent[] = [];
    const urineInFile = { ...uiUrine, port: 33 };
    const second = start(db, config([fileChem, urineInFile]), events);
    expect(second.gateway.statuses().map((s) => [s.id, s.managedBy])).toEqual([
      ['chem1', 'file'],
      ['urine1', 'file'],
    ]);
    expect(second.store.listInstruments().map((r) => [r.id, r.source])).toEqual([
      ['chem1', 'file'],
      ['urine1', 'file'],
    ]);
    const replaced = events.flatMap((e) =>
      e.type === 'log' && e.entry.code === 'INSTRUMENT_REPLACED_BY_FILE' ? [e.entry] : [],
    );
    expect(replaced).toHaveLength(1);
    expect(replaced[0]!.message).toContain('"port":3');
    expect(second.gateway.config('urine1')?.port).toBe(33);
  });

  it('without a configuration file, every saved instrument is the application’s to edit', async () => {
    const db = path.join(temp.dir, 'nofile.sqlite');
    await stop(start(db, config([fileChem])));
    const runtime = start(db, undefined);
    expect(runtime.gateway.statuses().map((s) => s.managedBy)).toEqual(['app']);
    const update = await runtime.service.dispatch('updateInstrument', {
      config: { ...fileChem, port: 9 },
    });
    expect(update.ok).toBe(true);
  });
});

describe('ports the gateway itself listens on', () => {
  it('refuses the web UI’s port for an analyzer before creating anything', async () => {
    const runtime = createGatewayRuntime({
      dbFile: path.join(temp.dir, 'reserved.sqlite'),
      reservedPorts: () => [{ host: '127.0.0.1', port: 8080, what: 'the web UI' }],
    });
    running.push(runtime);
    const server = { id: 'an1', protocol: 'hl7', mode: 'server', host: '0.0.0.0', port: 8080 };
    const created = await runtime.service.dispatch('createInstrument', { config: server });
    expect(created).toEqual({
      ok: false,
      error: {
        code: 'PORT_IN_USE',
        message:
          'port 8080 is used by the web UI of this gateway; choose another port for the analyzer',
        fields: [{ field: 'port', message: 'used by the web UI of this gateway' }],
      },
    });
    expect(runtime.gateway.status('an1')).toBeNull();
    // A client link only connects out, so the same port number elsewhere is fine.
    const client = await runtime.service.dispatch('createInstrument', {
      config: { ...server, mode: 'client', host: '10.0.0.9', enabled: false },
    });
    expect(client.ok).toBe(true);
  });
});
