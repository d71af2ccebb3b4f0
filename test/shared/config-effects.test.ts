import { describe, expect, it } from 'vitest';
import { instrumentConfigSchema } from '../../src-shared/config';
import {
  INSTRUMENT_KEY_EFFECTS,
  INSTRUMENT_KEY_LABELS,
  describeKeys,
  planChange,
} from '../../src-shared/config-effects';

const base = instrumentConfigSchema.parse({
  id: 'chem1',
  protocol: 'astm',
  mode: 'server',
  port: 5000,
});

describe('what changing a setting does to a running link', () => {
  it('classifies every key of the instrument settings, and nothing else', () => {
    const schemaKeys = Object.keys(instrumentConfigSchema.shape).sort();
    expect(Object.keys(INSTRUMENT_KEY_EFFECTS).sort()).toEqual(schemaKeys);
    expect(Object.keys(INSTRUMENT_KEY_LABELS).sort()).toEqual(schemaKeys);
  });

  it('applies name, alarms, mapping, profile, QC and orders live', () => {
    const plan = planChange(base, {
      ...base,
      name: 'Chemistry',
      silence: { afterMs: 60_000, fromHour: 0, toHour: 24 },
      testCodes: { GLU: { code: 'GLUC', exclude: false } },
      profile: 'generic-astm',
      qc: { ...base.qc, sampleIds: ['QC*'] },
      orders: { download: 'push' },
    });
    expect(plan.changed).toEqual(['name', 'orders', 'profile', 'qc', 'silence', 'testCodes']);
    expect(plan.reconnect).toEqual([]);
  });

  it('reconnects for the address, the protocol, the framing and the wire limits', () => {
    for (const change of [
      { host: '0.0.0.0' },
      { port: 5001 },
      { mode: 'client' as const },
      { protocol: 'hl7' as const },
      { astm: { ...base.astm, framing: 'raw' as const } },
      { encoding: 'utf8' as const },
      { enabled: false },
    ]) {
      const plan = planChange(base, { ...base, ...change });
      expect(plan.reconnect, JSON.stringify(change)).toEqual(Object.keys(change));
    }
  });

  it('sees no change in the same settings, whatever their key order', () => {
    const reverse = (value: unknown): unknown =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reverse(v)]),
          )
        : value;
    const reordered = reverse(base) as Record<string, unknown>;
    expect(Object.keys(reordered)[0]).toBe(Object.keys(base).at(-1));
    expect(planChange(base, reordered).changed).toEqual([]);
  });

  it('treats a setting it does not know as one that reconnects', () => {
    expect(planChange(base, { ...base, someNewKey: 1 }).reconnect).toEqual(['someNewKey']);
  });

  it('names the settings in plain words', () => {
    expect(describeKeys(['port', 'host'])).toBe('port and host');
    expect(describeKeys(['name', 'silence', 'qc'])).toBe('name, silence alarm and QC rules');
  });
});
