/**
 * Where a host query's samples are read (the instrument's profile, else Q-3 component 2 or 3),
 * ranges from, and `ALL`, answered from a real order store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentConfigSchema, type InstrumentConfigInput } from '../../src-shared/config';
import { OrderDesk } from '../../src-main/orders';
import { readAstmHostQueries } from '../../src-main/profiles/read-message';
import { decodeMessages } from '../../src-main/protocols/astm/message';
import { openStore, type Store } from '../../src-main/store/store';
import { FakeClock } from '../support/fake-clock';
import path from 'node:path';
import { tempDir } from '../support/temp';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function rig(settings: Partial<InstrumentConfigInput> = {}) {
  const temp = tempDir();
  const store: Store = openStore({ file: path.join(temp.dir, 'gw.sqlite') });
  cleanups.push(() => temp.remove());
  cleanups.push(() => store.close());
  const config = instrumentConfigSchema.parse({
    id: 'chem1',
    protocol: 'astm',
    mode: 'server',
    port: 1,
    ...settings,
  });
  const logged: string[] = [];
  const desk = new OrderDesk({
    store,
    clock: new FakeClock(),
    instruments: () => [config],
    log: (_i, _l, code, message) => logged.push(`${code ?? ''} ${message}`),
  });
  const order = (sampleId: string, tests: string[], instrumentId: string | null = null) =>
    store.applyOrders([{ action: 'new', sampleId, tests, instrumentId, source: 'lis' }]);
  /** The answer to a query message (records joined by CR), as the analyzer would get it. */
  const ask = (...records: string[]) => {
    const decoded = decodeMessages(['H|\\^&|||ANALYZER', ...records, 'L|1|N'].join('\r'));
    const { queries, notes } = readAstmHostQueries(decoded, config);
    const answer = desk.answerHostQuery(config, queries);
    const text = answer ? answer.records.join('\r') : null;
    const samples = [...(text ?? '').matchAll(/\rO\|1\|([^|]*)\|/g)].map((m) => m[1]);
    return { answer, text, samples, notes, queries };
  };
  return { store, desk, order, ask, logged };
}

describe('host query sample IDs, ranges and ALL', () => {
  it('reads Q-3 component 2, else 3, without a profile', () => {
    const t = rig();
    t.order('S1', ['GLU']);
    t.order('S2', ['NA']);
    expect(t.ask('Q|1|^S1||ALL||||||||O').samples).toEqual(['S1']);
    expect(t.ask('Q|1|^^S2||ALL||||||||O').samples).toEqual(['S2']);
    // Two repeats of Q-3: two samples in one answer.
    expect(t.ask('Q|1|^S1\\^S2||ALL||||||||O').samples).toEqual(['S1', 'S2']);
  });

  it("reads the sample where the instrument's profile says (hitachi-7600: Q-3.3)", () => {
    const t = rig({ profile: 'hitachi-7600' });
    t.order('0000123', ['GLU']);
    t.order('7', ['NA']);
    // Component 2 is the sequence number, not the sample: the generic reading would ask for "7".
    const { samples, queries } = t.ask('Q|1|^7^0000123^0001^01||ALL||||||||O');
    expect(queries[0]!.sampleIds).toEqual(['0000123']);
    expect(samples).toEqual(['0000123']);
  });

  it('falls back to the generic place, with a note, when the profile place is missing', () => {
    const t = rig({ profile: 'hitachi-7600' });
    t.order('S1', ['GLU']);
    const { samples, notes } = t.ask('Q|1|^S1||ALL||||||||O');
    expect(samples).toEqual(['S1']);
    expect(notes[0]!.code).toBe('PROFILE_MISMATCH');
  });

  it('answers every open order from Q-3 to Q-4 (both included); padded numbers keep their length', () => {
    const t = rig();
    for (const id of ['0001', '0002', '0050', '0100', '0101', '001', '05']) t.order(id, ['GLU']);
    t.order('0060', ['GLU'], 'hema1'); // meant for another instrument
    const { samples, answer } = t.ask('Q|1|^0001|^0100|ALL||||||||O');
    expect(samples).toEqual(['0001', '0002', '0050', '0100']);
    expect(answer!.records.at(-1)).toBe('L|1|F');
    // Ends the wrong way round are the same range.
    expect(t.ask('Q|1|^0100|^0001|ALL||||||||O').samples).toEqual(['0001', '0002', '0050', '0100']);
    // Q-4 naming the same sample as Q-3 is no range.
    expect(t.ask('Q|1|^0050|^0050|ALL||||||||O').samples).toEqual(['0050']);
    // A range with nothing open in it: no information.
    expect(t.ask('Q|1|^A1|^A9|ALL||||||||O').text).toMatch(/\rL\|1\|I$/);
  });

  it('reads a range at the profile place too (Q-3.3 … Q-4.3)', () => {
    const t = rig({ profile: 'hitachi-7600' });
    for (const id of ['0000120', '0000121', '0000125', '0000130']) t.order(id, ['GLU']);
    const { samples } = t.ask('Q|1|^1^0000121^0001^01|^9^0000129^0001^05|ALL||||||||O');
    expect(samples).toEqual(['0000121', '0000125']);
  });

  it('answers ALL with every pending order for this instrument or any, oldest first', () => {
    const t = rig();
    t.order('S1', ['GLU']);
    t.order('S2', ['NA'], 'chem1');
    t.order('S3', ['K'], 'hema1');
    t.order('S4', ['CL']);
    expect(t.ask('Q|1|ALL||ALL||||||||O').samples).toEqual(['S1', 'S2', 'S4']);
    // Orders already sent are not in a worklist asked for with ALL.
    const s1 = t.store.listOrders({ sampleId: 'S1' })[0]!;
    t.store.markOrdersSent([s1.id], 'chem1', null);
    expect(t.ask('Q|1|ALL||ALL||||||||O').samples).toEqual(['S2', 'S4']);
  });

  it('answers L|1|Q and logs a query that names no sample, and nothing to an abort', () => {
    const t = rig();
    expect(t.ask('Q|1|||ALL||||||||O').text).toMatch(/\rL\|1\|Q$/);
    expect(t.logged.some((l) => l.startsWith('ASTM_QUERY_UNREADABLE'))).toBe(true);
    expect(t.ask('Q|1|^S1||ALL||||||||A').answer).toBeNull();
  });
});
