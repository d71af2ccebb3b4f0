import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import {
  commandNames,
  commands,
  type CommandName,
  type CommandRequest,
} from '../../src-shared/contract';
import { Gateway } from '../../src-main/gateway/gateway';
import { probeTarget } from '../../src-main/links/probe';
import { writeExportFile } from '../../src-main/service/export-file';
import type { DeliverExport, ExportPlan } from '../../src-main/service/exports';
import { createCommandService } from '../../src-main/service/service';
import type { ServiceEvent } from '../../src-main/service/types';
import { runSimulator } from '../../src-main/simulator/simulator';
import { openStore } from '../../src-main/store/store';
import { freePort, waitFor } from '../support/ports';
import { tempDir } from '../support/temp';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function setup(
  startDemo?: () => Promise<{ instrumentIds: string[] }>,
  deliverExport?: DeliverExport,
) {
  const temp = tempDir();
  const store = openStore({ file: path.join(temp.dir, 'db.sqlite'), durability: 'normal' });
  const gateway = new Gateway({ store });
  const service = createCommandService({
    gateway,
    store,
    probe: (target) => probeTarget(target),
    runtime: 'browser',
    version: '0.0.0-test',
    ...(startDemo ? { startDemo } : {}),
    ...(deliverExport ? { deliverExport } : {}),
  });
  const events: ServiceEvent[] = [];
  service.subscribe((event) => events.push(event));
  cleanups.push(async () => {
    service.close();
    await gateway.close(1_000);
    temp.remove();
  });
  return { store, gateway, service, events };
}

/** Calls a command and checks the response against the contract's schema. */
async function call<C extends CommandName>(
  service: ReturnType<typeof setup>['service'],
  command: C,
  payload: unknown,
) {
  const result = await service.dispatch(command, payload);
  if (result.ok) {
    const check = commands[command].response.safeParse(result.value);
    expect(
      check.success,
      `${command} response matches the contract: ${JSON.stringify(check.error?.issues)}`,
    ).toBe(true);
  }
  return result;
}

describe('the command service', () => {
  it('answers every contract command, and refuses what is not in it', async () => {
    const { service } = setup();
    for (const command of commandNames) {
      const result = await service.dispatch(command, { definitely: 'not valid' });
      // Every command exists: the answer is a validation error, never "unknown command".
      expect(result.ok ? 'ok' : result.error.code, command).not.toBe('UNKNOWN_COMMAND');
    }
    const unknown = await service.dispatch('rmRf' as CommandName, {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
  });

  it('validates payloads and names the fields', async () => {
    const { service } = setup();
    const bad = await service.dispatch('getMessage', { id: 'seven' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    if (!bad.ok) expect(bad.error.fields?.[0]?.field).toBe('id');
    const extra = await service.dispatch('reconnectInstrument', { id: 'x', sneaky: true });
    expect(extra).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
  });

  it('creates, updates, enables, reconnects and deletes instruments with field errors in plain words', async () => {
    const { service } = setup();
    const port = await freePort();
    const invalid = await call(service, 'createInstrument', {
      config: { id: 'c1', protocol: 'astm', mode: 'server', port: 70000 },
    });
    expect(invalid).toMatchObject({ ok: false, error: { code: 'INVALID_CONFIG' } });
    if (!invalid.ok) {
      expect(invalid.error.fields).toContainEqual({
        field: 'port',
        message: 'must be between 1 and 65535',
      });
    }
    const created = await call(service, 'createInstrument', {
      config: { id: 'c1', name: 'Chemistry', protocol: 'astm', mode: 'server', port },
    });
    expect(created).toMatchObject({ ok: true, value: { id: 'c1', name: 'Chemistry' } });
    const duplicate = await call(service, 'createInstrument', {
      config: { id: 'c1', protocol: 'hl7', mode: 'client', port: 1 },
    });
    expect(duplicate).toMatchObject({ ok: false, error: { code: 'DUPLICATE_ID' } });
    const clash = await call(service, 'createInstrument', {
      config: { id: 'c2', protocol: 'hl7', mode: 'server', port },
    });
    expect(clash).toMatchObject({ ok: false, error: { code: 'PORT_IN_USE' } });
    expect(await call(service, 'getInstrument', { id: 'c1' })).toMatchObject({ ok: true });
    expect(await call(service, 'reconnectInstrument', { id: 'c1' })).toEqual({
      ok: true,
      value: { ok: true },
    });
    expect(await call(service, 'disconnectInstrument', { id: 'c1' })).toEqual({
      ok: true,
      value: { ok: true },
    });
    const disabled = await call(service, 'setInstrumentEnabled', { id: 'c1', enabled: false });
    expect(disabled).toMatchObject({ ok: true, value: { state: 'disabled' } });
    const renamed = await call(service, 'updateInstrument', {
      config: { id: 'c1', name: 'Chem 2', protocol: 'astm', mode: 'server', port, enabled: false },
    });
    expect(renamed).toMatchObject({ ok: true, value: { name: 'Chem 2' } });
    expect(await call(service, 'deleteInstrument', { id: 'c1' })).toEqual({
      ok: true,
      value: { ok: true },
    });
    expect(await call(service, 'listInstruments', {})).toEqual({ ok: true, value: [] });
    expect(await call(service, 'reconnectInstrument', { id: 'c1' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });

  it('serves history: pages, one message parsed with positions and its trace, exports', async () => {
    const exportDir = tempDir();
    cleanups.push(exportDir.remove);
    // As the desktop delivers: streamed into a file the user chose.
    const deliverExport: DeliverExport = async (plan) => {
      const file = path.join(exportDir.dir, plan.fileName);
      const count = await writeExportFile(plan, file);
      return { fileName: plan.fileName, count, savedTo: file, downloadUrl: null };
    };
    const { service, gateway, events } = setup(undefined, deliverExport);
    const [astmPort, hl7Port] = [await freePort(), await freePort()];
    gateway.addInstrument(
      instrumentConfigSchema.parse({ id: 'a', protocol: 'astm', mode: 'server', port: astmPort }),
    );
    gateway.addInstrument(
      instrumentConfigSchema.parse({ id: 'h', protocol: 'hl7', mode: 'server', port: hl7Port }),
    );
    await waitFor(() => gateway.statuses().every((s) => s.state === 'listening'), 'listening');
    const samples: string[] = [];
    for (const [protocol, port] of [
      ['astm', astmPort],
      ['hl7', hl7Port],
    ] as const) {
      const summary = await runSimulator({
        protocol,
        target: { connect: { host: '127.0.0.1', port } },
        messages: 3,
        results: 2,
        onMessage: (_id, sample) => samples.push(sample.sampleId),
      });
      expect(summary.acked).toBe(3);
    }
    const page = await call(service, 'queryMessages', { limit: 4 });
    expect(page.ok && page.value.items).toHaveLength(4);
    const rest = await call(service, 'queryMessages', {
      limit: 4,
      cursor: page.ok ? page.value.nextCursor : null,
    });
    expect(rest.ok && rest.value.items).toHaveLength(2);
    const found = await call(service, 'queryMessages', { search: samples[4]! });
    expect(found.ok && found.value.items.map((m) => m.sampleIds)).toEqual([[samples[4]]]);

    const astm = await call(service, 'queryMessages', { instrumentId: 'a', limit: 1 });
    const astmId = astm.ok ? astm.value.items[0]!.id : 0;
    const detail = await call(service, 'getMessage', { id: astmId });
    expect(detail.ok).toBe(true);
    if (detail.ok) {
      const r = detail.value.parsed.find((s) => s.name === 'R')!;
      expect(r.fields.map((f) => f.position)).toContain('R-4');
      expect(Buffer.from(detail.value.raw, 'base64').includes(0x02)).toBe(true);
      const traceBytes = detail.value.trace.map((t) => [...Buffer.from(t.bytes, 'base64')]).flat();
      expect(traceBytes).toContain(0x05); // ENQ
      expect(traceBytes).toContain(0x06); // ACK
      expect(traceBytes).toContain(0x04); // EOT
    }
    const hl7 = await call(service, 'queryMessages', { instrumentId: 'h', limit: 1 });
    const hl7Detail = await call(service, 'getMessage', {
      id: hl7.ok ? hl7.value.items[0]!.id : 0,
    });
    if (hl7Detail.ok) {
      const obx = hl7Detail.value.parsed.find((s) => s.name === 'OBX')!;
      expect(obx.fields.find((f) => f.position === 'OBX-5')?.value).toBe(
        hl7Detail.value.results[0]!.value,
      );
    }

    const csv = await call(service, 'exportMessages', { query: {}, format: 'csv' });
    expect(csv.ok && csv.value.count).toBe(6);
    if (csv.ok) {
      expect(csv.value.savedTo).toBe(path.join(exportDir.dir, csv.value.fileName));
      const rows = readFileSync(csv.value.savedTo!, 'utf8').trim().split('\r\n');
      expect(rows[0]).toBe(
        'messageId,instrumentId,instrumentName,receivedAt,sampleId,patientId,testCode,value,units,referenceRange,flags,status,observedAt,qc',
      );
      expect(rows).toHaveLength(1 + 6 * 2);
    }
    const raw = await call(service, 'exportMessages', {
      query: { instrumentId: 'h' },
      format: 'raw',
      max: 2,
    });
    expect(raw.ok && raw.value.count).toBe(2);
    const newestHl7 = await call(service, 'queryMessages', { instrumentId: 'h', limit: 2 });
    const rawOf = async (id: number) => {
      const message = await call(service, 'getMessage', { id });
      return Buffer.from(message.ok ? message.value.raw : '', 'base64');
    };
    const expected = Buffer.concat(
      await Promise.all((newestHl7.ok ? newestHl7.value.items : []).map((m) => rawOf(m.id))),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(raw.ok && readFileSync(raw.value.savedTo!).equals(expected)).toBe(true);

    const stats = await call(service, 'getStats', {});
    expect(
      stats.ok && stats.value.instruments.find((i) => i.instrumentId === 'a')?.lastHourIn,
    ).toBe(3);

    const log = await call(service, 'listEvents', { instrumentId: 'a', limit: 5 });
    expect(log.ok && log.value.items.length).toBeGreaterThan(0);

    await waitFor(() => events.some((e) => e.name === 'messagesStored'), 'a messagesStored event');
    const batches = events.filter((e) => e.name === 'messagesStored');
    const total = batches.reduce(
      (n, e) => n + (e.name === 'messagesStored' ? e.payload.messages.length : 0),
      0,
    );
    await waitFor(
      () =>
        events
          .filter((e) => e.name === 'messagesStored')
          .reduce(
            (n, e) => n + (e.name === 'messagesStored' ? e.payload.messages.length : 0),
            0,
          ) === 6,
      'all six messages announced',
    );
    expect(total).toBeLessThanOrEqual(6);
  });

  it('searches the event log by words, code, kind and instrument', async () => {
    const { store, service } = setup();
    store.insertEvents([
      {
        at: 1,
        instrumentId: 'cobas',
        kind: 'protocol',
        level: 'warn',
        code: 'ASTM_BAD_CHECKSUM',
        message: 'frame 2 NAKed, sent again',
      },
      {
        at: 2,
        instrumentId: 'sysmex',
        kind: 'link',
        level: 'info',
        message: 'Connected from 10.0.0.7',
      },
      {
        at: 3,
        instrumentId: null,
        kind: 'system',
        level: 'info',
        message: 'Gateway started; 100% of instruments up',
      },
      {
        at: 4,
        instrumentId: 'cobas',
        kind: 'link',
        level: 'error',
        message: 'Port 5000 is in use',
      },
    ]);
    const messages = async (query: CommandRequest<'listEvents'>) => {
      const page = await call(service, 'listEvents', query);
      return page.ok ? page.value.items.map((item) => item.message) : [page.error.code];
    };
    expect(await messages({ search: 'bad_checksum' })).toEqual(['frame 2 NAKed, sent again']);
    expect(await messages({ search: 'CONNECTED' })).toEqual(['Connected from 10.0.0.7']);
    expect(await messages({ search: 'sysmex' })).toEqual(['Connected from 10.0.0.7']);
    expect(await messages({ search: '100%' })).toEqual(['Gateway started; 100% of instruments up']);
    // % and _ are the characters typed, not wildcards.
    expect(await messages({ search: '1_0' })).toEqual([]);
    expect(await messages({ search: 'port', instrumentId: 'cobas', level: 'error' })).toEqual([
      'Port 5000 is in use',
    ]);
    expect(await messages({ search: '  ' })).toHaveLength(4);
    const tooLong = await service.dispatch('listEvents', { search: 'x'.repeat(201) });
    expect(tooLong.ok).toBe(false);
  });

  it('coalesces a flood of events into at most about ten batches a second', async () => {
    const { service, gateway, events } = setup();
    const port = await freePort();
    gateway.addInstrument(
      instrumentConfigSchema.parse({
        id: 'f',
        protocol: 'hl7',
        mode: 'server',
        port,
        maxConnections: 8,
      }),
    );
    await waitFor(() => gateway.status('f')?.state === 'listening', 'listening');
    const started = Date.now();
    const summary = await runSimulator({
      protocol: 'hl7',
      target: { connect: { host: '127.0.0.1', port } },
      messages: 400,
      results: 1,
      concurrency: 8,
    });
    expect(summary.acked).toBe(400);
    const count = () =>
      events.reduce((n, e) => n + (e.name === 'messagesStored' ? e.payload.messages.length : 0), 0);
    await waitFor(() => count() === 400, 'every message announced');
    const elapsed = Date.now() - started;
    const batches = events.filter((e) => e.name === 'messagesStored').length;
    expect(batches).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    expect(batches).toBeLessThan(400);
    void service;
  });

  it('refuses exports in plain words where nothing can receive them', async () => {
    const { service } = setup();
    expect(await call(service, 'exportMessages', { query: {}, format: 'csv' })).toMatchObject({
      ok: false,
      error: { code: 'EXPORT_NOT_AVAILABLE', message: expect.stringContaining('nowhere to save') },
    });
  });

  it('hands the plan of the query to the delivery and answers with what it did', async () => {
    const plans: ExportPlan[] = [];
    const { service } = setup(undefined, async (plan) => {
      plans.push(plan);
      return { fileName: plan.fileName, count: null, savedTo: null, downloadUrl: '/export/x' };
    });
    const answer = await call(service, 'exportMessages', { query: {}, format: 'json', max: 5 });
    expect(answer).toEqual({
      ok: true,
      value: {
        fileName: expect.stringMatching(/^messages-.*\.json$/),
        count: null,
        savedTo: null,
        downloadUrl: '/export/x',
      },
    });
    expect(plans.map((plan) => plan.mimeType)).toEqual(['application/json']);
    // Nothing was read yet: the plan is read as the delivery consumes it.
    expect(plans[0]!.count).toBe(0);
    expect(JSON.parse([...plans[0]!.chunks()].join(''))).toEqual([]);
  });

  it('offers the demo only where it exists', async () => {
    const none = setup();
    expect(await call(none.service, 'startDemo', {})).toMatchObject({
      ok: false,
      error: { code: 'NOT_AVAILABLE' },
    });
    const demo = setup(async () => ({ instrumentIds: ['demo-astm', 'demo-hl7'] }));
    expect(await call(demo.service, 'startDemo', {})).toEqual({
      ok: true,
      value: { instrumentIds: ['demo-astm', 'demo-hl7'] },
    });
    expect(await call(demo.service, 'getAppInfo', {})).toMatchObject({
      ok: true,
      value: { demoAvailable: true },
    });
  });

  it('tests a connection without disturbing anything', async () => {
    const { service } = setup();
    const port = await freePort();
    const refused = await call(service, 'testConnection', { host: '127.0.0.1', port });
    expect(refused).toMatchObject({ ok: true, value: { ok: false } });
    if (refused.ok) expect(refused.value.message).toContain('connection refused');
  });
});
