import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { openDesktopRuntime } from '../../src-main/electron/runtime';
import { openStore } from '../../src-main/store/store';
import { freePort } from '../support/ports';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A database in which the UI saved one instrument earlier. */
async function savedDatabase(): Promise<string> {
  const temp = tempDir();
  cleanups.push(() => temp.remove());
  const dbFile = path.join(temp.dir, 'gateway.sqlite');
  const store = openStore({ file: dbFile });
  const config = instrumentConfigSchema.parse({
    id: 'chem1',
    protocol: 'astm',
    mode: 'server',
    port: await freePort(),
  });
  store.upsertInstrument(config.id, config);
  store.close();
  return dbFile;
}

describe('the desktop runtime', () => {
  it('starts the instruments saved in the database and serves the contract as Electron', async () => {
    const dbFile = await savedDatabase();
    const runtime = openDesktopRuntime({ dbFile, nativeBinding: undefined, version: '9.9.9' });
    cleanups.push(() => runtime.close(1_000));
    const info = await runtime.service.dispatch('getAppInfo', {});
    expect(info).toEqual({
      ok: true,
      value: {
        version: '9.9.9',
        runtime: 'electron',
        dbFile,
        configFile: null,
        demoAvailable: true,
      },
    });
    const instruments = await runtime.service.dispatch('listInstruments', {});
    expect(instruments.ok && instruments.value.map((i) => i.id)).toEqual(['chem1']);
  });

  it('removes the demo instruments when it closes, so the next start does not find them', async () => {
    const dbFile = await savedDatabase();
    const runtime = openDesktopRuntime({ dbFile, nativeBinding: undefined, version: '9.9.9' });
    const demo = await runtime.service.dispatch('startDemo', {});
    expect(demo.ok && demo.value.instrumentIds).toHaveLength(2);
    await runtime.close(2_000);
    const store = openStore({ file: dbFile, readonly: true });
    expect(store.listInstruments().map((r) => r.id)).toEqual(['chem1']);
    store.close();
  });
});
