/**
 * The profile fixtures through the live receive path: the instrument's ASTM session and handler,
 * fed each transmission whole, split at every byte offset and one byte at a time, storing what
 * the instrument's profile and QC rules read.
 */
import { describe, expect, it } from 'vitest';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../src-shared/config';
import { AstmConnectionHandler } from '../../src-main/gateway/astm-handler';
import type { InstrumentContext } from '../../src-main/gateway/context';
import { Hl7ConnectionHandler } from '../../src-main/gateway/hl7-handler';
import type { LinkConnection } from '../../src-main/links/types';
import { frameMllp } from '../../src-main/protocols/hl7/mllp';
import type { NewMessage } from '../../src-main/store/types';
import { FakeClock } from '../support/fake-clock';
import { PROFILE_FIXTURES, fixtureBytes, row } from '../profiles/fixtures';

function instrument(settings: Partial<InstrumentConfigInput>) {
  return instrumentConfigSchema.parse({
    id: 'an1',
    protocol: 'astm',
    mode: 'server',
    port: 15001,
    ...settings,
  });
}

/** A handler with a context that stores into an array and answers every commit at once. */
function receiver(settings: Partial<InstrumentConfigInput>) {
  const rows: NewMessage[] = [];
  const written: Buffer[] = [];
  const notes: string[] = [];
  const context: InstrumentContext = {
    config: instrument(settings),
    clock: new FakeClock(),
    persist: (message) => {
      rows.push(message);
      return Promise.resolve({ id: rows.length, duplicate: false });
    },
    stored: () => undefined,
    storageFailed: () => undefined,
    protocolError: () => undefined,
    note: (_level, code, message) => notes.push(`${code}: ${message}`),
    updateOutcome: () => undefined,
    nextControlId: () => 'GW1',
    orders: null,
    ordersSent: () => undefined,
  };
  const connection: LinkConnection = {
    id: 'an1#1',
    peer: '127.0.0.1:40000',
    write: (bytes) => written.push(bytes) > 0,
    close: () => undefined,
  };
  const protocol = context.config.protocol;
  const handler =
    protocol === 'astm'
      ? new AstmConnectionHandler(connection, context)
      : new Hl7ConnectionHandler(connection, context);
  return { handler, rows, written, notes };
}

/** The whole transmission, every split in two, and one byte at a time. */
function deliveries(bytes: Buffer): Buffer[][] {
  const runs: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.of(b))];
  for (let at = 1; at < bytes.length; at++) runs.push([bytes.subarray(0, at), bytes.subarray(at)]);
  return runs;
}

describe('profiles on the live ASTM receive path', () => {
  it.each(PROFILE_FIXTURES.map((f) => [f.file, f] as const))(
    '%s: stored as its profile reads it, however the bytes arrive',
    (_file, fixture) => {
      const bytes = fixtureBytes(fixture.file);
      for (const chunks of deliveries(bytes)) {
        const { handler, rows } = receiver({ profile: fixture.profile });
        for (const chunk of chunks) handler.onData(chunk);
        const cut = `${chunks.length} chunks, first ${chunks[0]!.length} bytes`;
        expect(rows, cut).toHaveLength(1);
        const stored = rows[0]!;
        expect(stored.results.map(row), cut).toEqual(fixture.profiled);
        expect(
          stored.results.every((r) => r.qc === (fixture.qc ?? false)),
          cut,
        ).toBe(true);
        expect(stored.errors, cut).toEqual([]);
        expect(stored.status, cut).toBe('stored');
        expect(stored.profile, cut).toBe(fixture.profile);
        if (fixture.queries) expect(stored.sampleIds, cut).toEqual(fixture.queries.profiled);
      }
    },
  );

  it('stores the generic reading without a profile', () => {
    const { handler, rows } = receiver({});
    handler.onData(fixtureBytes('genexpert.astm'));
    expect(rows[0]!.results.map(row)).toEqual(PROFILE_FIXTURES[0]!.generic);
    expect(rows[0]!.profile).toBeNull();
  });

  it('keeps a message the profile does not fit, with the generic reading and a note', () => {
    const { handler, rows, notes, written } = receiver({ profile: 'hitachi-7600' });
    handler.onData(fixtureBytes('dca-vantage.astm'));
    const stored = rows[0]!;
    expect(stored.results.map(row)).toEqual(PROFILE_FIXTURES[4]!.generic);
    expect(stored.status).toBe('error');
    expect(stored.errors.map((e) => e.code)).toEqual(['PROFILE_MISMATCH']);
    expect(stored.errors[0]!.message).toContain('no O-3.2 for the sample ID');
    expect(notes).toEqual([`PROFILE_MISMATCH: ${stored.errors[0]!.message}`]);
    // The frames were acknowledged as usual: the message was received whole and stored.
    expect(written.every((b) => b.length === 1 && b[0] === 0x06)).toBe(true);
  });

  it('marks QC by sample ID pattern', () => {
    const { handler, rows } = receiver({ profile: 'dca-vantage', qc: { sampleIds: ['7?2'] } });
    handler.onData(fixtureBytes('dca-vantage.astm'));
    expect(rows[0]!.results.map((r) => r.qc)).toEqual([true, true, true]);
  });
});

describe('QC on the live HL7 receive path', () => {
  const oru = (role: string) =>
    frameMllp(
      Buffer.from(
        [
          'MSH|^~\\&|AN|LAB|LIS|HOSP|20250601120000||ORU^R01^ORU_R01|M1|P|2.5.1',
          'PID|1||PAT9',
          'OBR|1||S-900|CBC',
          'OBX|1|NM|WBC||7.2|10*3/uL|||||F',
          `SPM|1|S-900||BLD|||||||${role}`,
        ].join('\r'),
        'latin1',
      ),
    );

  it('marks a control specimen (SPM-11 Q) and answers AA as for any message', async () => {
    const control = receiver({ protocol: 'hl7' });
    control.handler.onData(oru('Q'));
    const patient = receiver({ protocol: 'hl7' });
    patient.handler.onData(oru('P'));
    expect(control.rows[0]!.results.map((r) => r.qc)).toEqual([true]);
    expect(patient.rows[0]!.results.map((r) => r.qc)).toEqual([false]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(control.written.map((b) => b.toString('latin1')).join('')).toContain('MSA|AA|M1');
    expect(control.rows[0]!.status).toBe('stored');
  });

  it('does not when the instrument ignores the messages’ own marks', () => {
    const { handler, rows } = receiver({ protocol: 'hl7', qc: { messageMarks: false } });
    handler.onData(oru('Q'));
    expect(rows[0]!.results.map((r) => r.qc)).toEqual([false]);
  });
});
