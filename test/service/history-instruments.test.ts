import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { Gateway } from '../../src-main/gateway/gateway';
import { probeTarget } from '../../src-main/links/probe';
import { createCommandService } from '../../src-main/service/service';
import { runSimulator } from '../../src-main/simulator/simulator';
import { openStore } from '../../src-main/store/store';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('the instruments the history can be filtered by', () => {
  it('keeps a removed instrument whose messages are still stored, marked removed', async () => {
    const temp = tempDir();
    const store = openStore({ file: path.join(temp.dir, 'db.sqlite'), durability: 'normal' });
    const gateway = new Gateway({ store });
    const service = createCommandService({
      gateway,
      store,
      probe: (target) => probeTarget(target),
      runtime: 'browser',
      version: '0.0.0-test',
    });
    cleanups.push(async () => {
      service.close();
      await gateway.close(1_000);
      temp.remove();
    });
    const [p1, p2] = [await freePort(), await freePort()];
    gateway.start([
      instrumentConfigSchema.parse({
        id: 'old',
        name: 'Old analyzer',
        protocol: 'hl7',
        mode: 'server',
        port: p1,
      }),
      instrumentConfigSchema.parse({
        id: 'new',
        name: 'New analyzer',
        protocol: 'hl7',
        mode: 'server',
        port: p2,
      }),
    ]);
    await waitFor(() => gateway.status('old')?.state === 'listening', 'listening');
    const sent = await runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port: p1 } },
      messages: 2,
      results: 1,
    });
    expect(sent.acked).toBe(2);
    await gateway.removeInstrument('old');
    const answer = await service.dispatch('listHistoryInstruments', {});
    expect(answer).toEqual({
      ok: true,
      value: [
        { id: 'new', name: 'New analyzer', removed: false },
        { id: 'old', name: 'old', removed: true },
      ],
    });
  });
});
