import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { openDesktopRuntime } from '../../src-main/electron/runtime';
import type { DeliverExport } from '../../src-main/service/exports';
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

/** As the save dialog answers when the user presses Cancel. */
const deliverExport: DeliverExport = async (plan) => ({
  fileName: plan.fileName,
  count: null,
  savedTo: null,
  downloadUrl: null,
});

describe('the desktop runtime', () => {
  it('starts the instruments saved in the database and serves the contract as Electron', async () => {
    const dbFile = await savedDatabase();
    const runtime = openDesktopRuntime({
      dbFile,
      nativeBinding: undefined,
      version: '9.9.9',
      deliverExport,
    });
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
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      },
    });
    const instruments = await runtime.service.dispatch('listInstruments', {});
    expect(instruments.ok && instruments.value.map((i) => i.id)).toEqual(['chem1']);
  });

  it('hands exports to the save dialog the desktop app gives it', async () => {
    const dbFile = await savedDatabase();
    const planned: string[] = [];
    const runtime = openDesktopRuntime({
      dbFile,
      nativeBinding: undefined,
      version: '9.9.9',
      deliverExport: async (plan) => {
        planned.push(plan.mimeType);
        return deliverExport(plan);
      },
    });
    cleanups.push(() => runtime.close(1_000));
    const answer = await runtime.service.dispatch('exportMessages', { query: {}, format: 'raw' });
    expect(answer).toMatchObject({ ok: true, value: { savedTo: null, count: null } });
    expect(planned).toEqual(['application/octet-stream']);
  });

  it('removes the demo instruments when it closes, so the next start does not find them', async () => {
    const dbFile = await savedDatabase();
    const runtime = openDesktopRuntime({
      dbFile,
      nativeBinding: undefined,
      version: '9.9.9',
      deliverExport,
    });
    const demo = await runtime.service.dispatch('startDemo', {});
    expect(demo.ok && demo.value.instrumentIds).toHaveLength(2);
    await runtime.close(2_000);
    const store = openStore({ file: dbFile, readonly: true });
    expect(store.listInstruments().map((r) => r.id)).toEqual(['chem1']);
    store.close();
  });
});
