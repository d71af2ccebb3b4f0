/** The detail view's sources and LIS codes, the QC filter and the editor's profile preview. */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../src-shared/config';
import { commands, type CommandName } from '../../src-shared/contract';
import { Gateway } from '../../src-main/gateway/gateway';
import { probeTarget } from '../../src-main/links/probe';
import { readAstmMessages } from '../../src-main/profiles/read-message';
import { decodeAstm } from '../../src-main/protocols/astm/decode';
import { createCommandService } from '../../src-main/service/service';
import { openStore } from '../../src-main/store/store';
import { tempDir } from '../support/temp';
import { fixtureBytes } from '../profiles/fixtures';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const DCA: InstrumentConfigInput = {
  id: 'dca1',
  protocol: 'astm',
  mode: 'server',
  port: 15001,
  enabled: false,
  profile: 'dca-vantage',
  testCodes: { Alb: { code: 'UALB', name: 'Urine albumin' }, Ratio: { exclude: true } },
  qc: { sampleIds: ['CTRL*'] },
};

function setup(instruments: InstrumentConfigInput[] = [DCA]) {
  const temp = tempDir();
  const store = openStore({ file: path.join(temp.dir, 'db.sqlite'), durability: 'normal' });
  const gateway = new Gateway({ store });
  gateway.start(instruments.map((i) => instrumentConfigSchema.parse(i)));
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
  /** Stores a fixture as the instrument's handler would have. */
  const receive = (file: string, at: number, change: (text: string) => string = (t) => t) => {
    const config = gateway.config('dca1')!;
    const bytes = Buffer.from(change(fixtureBytes(file).toString('latin1')), 'latin1');
    const messages = decodeAstm(bytes).messages;
    const { results, notes } = readAstmMessages(messages, config);
    const [outcome] = store.insertMessages([
      {
        instrumentId: 'dca1',
        protocol: 'astm',
        direction: 'in',
        receivedAt: at,
        text: messages.map((m) => m.text).join('\r'),
        raw: bytes,
        status: 'stored',
        errors: notes,
        results,
        profile: config.profile ?? null,
      },
    ]);
    return outcome!.id;
  };
  return { store, gateway, service, receive };
}

async function call<C extends CommandName>(
  service: ReturnType<typeof setup>['service'],
  command: C,
  payload: unknown,
) {
  const result = await service.dispatch(command, payload);
  if (!result.ok) throw new Error(`${command}: ${result.error.code} ${result.error.message}`);
  const check = commands[command].response.safeParse(result.value);
  expect(check.success, JSON.stringify(check.error?.issues)).toBe(true);
  return result.value;
}

describe('a message in the detail view', () => {
  it('shows where each value came from, and the LIS code beside the analyzer’s', async () => {
    const { service, receive } = setup();
    const id = receive('dca-vantage.astm', 1_000);
    const detail = await call(service, 'getMessage', { id });
    expect(detail.profile).toBe('dca-vantage');
    const [alb, crt, ratio] = detail.results;
    expect(alb).toMatchObject({ testCode: 'Alb', observedAt: '2025-06-03T11:10:12', qc: false });
    expect(alb!.lis).toEqual({
      testCode: 'UALB',
      name: 'Urine albumin',
      units: 'mg/L',
      mapped: true,
      excluded: false,
    });
    expect(crt!.lis).toMatchObject({ testCode: 'Crt', mapped: false, excluded: false });
    expect(ratio!.lis).toMatchObject({ testCode: 'Ratio', mapped: true, excluded: true });
    // R records are the 4th, 6th and 8th of the Parsed tab.
    expect(alb!.sources.map((s) => [s.field, s.segment, s.position])).toEqual([
      ['sampleId', 2, 'O-4.1'],
      ['patientId', 1, 'P-3'],
      ['testCode', 3, 'R-3.4'],
      ['value', 3, 'R-4'],
      ['units', 3, 'R-5'],
      ['status', 3, 'R-9'],
      ['observedAt', 3, 'R-12'],
    ]);
    expect(detail.parsed[3]!.name).toBe('R');
    expect(ratio!.sources.find((s) => s.field === 'value')).toMatchObject({ segment: 7 });
  });

  it('explains with the profile the message was stored with, not the instrument’s new one', async () => {
    const { service, gateway, receive } = setup();
    const id = receive('dca-vantage.astm', 1_000);
    await gateway.updateInstrument(instrumentConfigSchema.parse({ ...DCA, profile: undefined }));
    const detail = await call(service, 'getMessage', { id });
    expect(detail.results[0]!.sources.find((s) => s.field === 'observedAt')?.position).toBe('R-12');
  });

  it('lists QC messages apart', async () => {
    const { service, receive } = setup();
    receive('dca-vantage.astm', 1_000);
    const control = receive('dca-vantage.astm', 2_000, (t) =>
      t.replace('O|1||712^0031', 'O|1||CTRL2^0031'),
    );
    const qc = await call(service, 'queryMessages', { qc: true });
    expect(qc.items.map((m) => [m.id, m.qc])).toEqual([[control, true]]);
    const patients = await call(service, 'queryMessages', { qc: false });
    expect(patients.items.map((m) => m.qc)).toEqual([false]);
  });
});

describe('previewProfile', () => {
  it('reads the instrument’s last message with the profile chosen in the editor', async () => {
    const { service, receive } = setup();
    expect(await call(service, 'previewProfile', { instrumentId: 'dca1', profile: null })).toEqual({
      message: null,
    });
    const id = receive('dca-vantage.astm', 1_000);
    const generic = await call(service, 'previewProfile', { instrumentId: 'dca1', profile: null });
    expect(generic.message).toMatchObject({ id, protocol: 'astm', notes: [] });
    expect(generic.message!.results.map((r) => r.observedAt)).toEqual([null, null, null]);
    const dca = await call(service, 'previewProfile', {
      instrumentId: 'dca1',
      profile: 'dca-vantage',
    });
    expect(dca.message!.results[0]).toMatchObject({ observedAt: '2025-06-03T11:10:12' });
    expect(dca.message!.results[0]!.sources.at(-1)).toMatchObject({ position: 'R-12' });
    const hitachi = await call(service, 'previewProfile', {
      instrumentId: 'dca1',
      profile: 'hitachi-7600',
    });
    expect(hitachi.message!.notes.map((n) => n.code)).toEqual(['PROFILE_MISMATCH']);
  });

  it('refuses a profile that does not exist or reads the other protocol', async () => {
    const { service, receive } = setup();
    receive('dca-vantage.astm', 1_000);
    expect(
      await service.dispatch('previewProfile', { instrumentId: 'dca1', profile: 'c999' }),
    ).toMatchObject({ ok: false, error: { code: 'UNKNOWN_PROFILE' } });
    const hl7 = setup([{ id: 'h1', protocol: 'hl7', mode: 'server', port: 1, enabled: false }]);
    hl7.store.insertMessages([
      {
        instrumentId: 'h1',
        protocol: 'hl7',
        direction: 'in',
        receivedAt: 1,
        text: 'MSH|^~\\&|A|B|C|D|20250601||ORU^R01|M1|P|2.5.1\rOBX|1|NM|K||4',
        raw: Buffer.from('x'),
        status: 'stored',
        errors: [],
        results: [],
      },
    ]);
    expect(
      await hl7.service.dispatch('previewProfile', { instrumentId: 'h1', profile: 'genexpert' }),
    ).toMatchObject({ ok: false, error: { code: 'PROFILE_PROTOCOL' } });
  });
});
