import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import { Gateway } from '../../src-main/gateway/gateway';
import { planExport } from '../../src-main/service/exports';
import { runSimulator } from '../../src-main/simulator/simulator';
import { openStore } from '../../src-main/store/store';
import { cli } from '../support/cli';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';
import { writeFileSync } from 'node:fs';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('the "Raw bytes" export', () => {
  it.each(['astm', 'hl7'] as const)(
    'is a %s capture that decode reads back to the stored results',
    async (protocol) => {
      const temp = tempDir();
      const store = openStore({ file: path.join(temp.dir, 'db.sqlite'), durability: 'normal' });
      const gateway = new Gateway({ store });
      cleanups.push(async () => {
        await gateway.close(1_000);
        temp.remove();
      });
      const port = await freePort();
      gateway.start([instrumentConfigSchema.parse({ id: 'an', protocol, mode: 'server', port })]);
      await waitFor(() => gateway.status('an')?.state === 'listening', 'listening');
      const sent = await runSimulator({
        protocol,
        target: { connect: { host: '127.0.0.1', port } },
        messages: 4,
        results: 3,
      });
      expect(sent.acked).toBe(4);
      await waitFor(() => store.queryMessages({}).items.length === 4, 'stored');

      const plan = planExport(store, { protocol }, 'raw', 100, Date.now());
      expect(plan.fileName).toMatch(new RegExp(`\\.${protocol}$`, 'u'));
      const file = path.join(temp.dir, plan.fileName);
      writeFileSync(file, Buffer.concat([...plan.chunks()].map((c) => Buffer.from(c))));

      const decoded = await cli(['decode', protocol, file]);
      expect(decoded.err).toBe('');
      expect(decoded.code).toBe(0);
      const readBack = decoded.lines.map(
        (line) => (JSON.parse(line) as { results: { sampleId: string; value: string }[] }).results,
      );
      const stored = store.queryMessages({ protocol }).items.map((m) => store.getMessage(m.id)!);
      expect(readBack).toHaveLength(4);
      expect(readBack.map((results) => results.map((r) => [r.sampleId, r.value]))).toEqual(
        stored.map((m) => m.results.map((r) => [r.sampleId, r.value])),
      );
    },
  );
});
