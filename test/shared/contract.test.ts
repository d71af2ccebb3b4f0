import { describe, expect, it } from 'vitest';
import {
  commandNames,
  commands,
  eventNames,
  events,
  isCommandName,
  parseRequest,
  subscriberName,
} from '../../src-shared/contract';
import { channelOf } from '../../src-shared/channels';
import { parseGatewayConfig } from '../../src-shared/config';

describe('the IPC contract', () => {
  it('names one subscriber and one channel per event, one channel per command', () => {
    expect(eventNames.map(subscriberName)).toEqual([
      'onLinkStatus',
      'onMessagesStored',
      'onLogged',
      'onStatsTick',
      'onInstrumentRemoved',
      'onDestinationStatus',
    ]);
    const channels = [
      ...commandNames.map((c) => channelOf(c, 'command')),
      ...eventNames.map((e) => channelOf(e, 'event')),
    ];
    expect(new Set(channels).size).toBe(channels.length);
    expect(channelOf('listInstruments', 'command')).toBe('gateway:command:listInstruments');
  });

  it('refuses unknown keys in every request that takes an object', () => {
    for (const command of commandNames) {
      const result = parseRequest(command, { __proto__injection: 1 });
      expect(result.ok, command).toBe(false);
    }
  });

  it('accepts what the UI sends and says which field is wrong', () => {
    expect(parseRequest('queryMessages', { search: 'SID001', limit: 200, order: 'desc' }).ok).toBe(
      true,
    );
    expect(parseRequest('listInstruments', undefined).ok).toBe(true);
    const tooMany = parseRequest('queryMessages', { limit: 5000 });
    expect(tooMany).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    if (!tooMany.ok) expect(tooMany.error.fields?.[0]?.field).toBe('limit');
    const badPort = parseRequest('testConnection', { host: 'analyzer', port: 0 });
    if (!badPort.ok) expect(badPort.error.fields?.map((f) => f.field)).toEqual(['port']);
    expect(badPort.ok).toBe(false);
  });

  it('knows its command names and nothing else', () => {
    expect(isCommandName('reconnectInstrument')).toBe(true);
    expect(isCommandName('toString')).toBe(false);
    expect(isCommandName('__proto__')).toBe(false);
    expect(Object.keys(commands)).toEqual(commandNames);
    expect(Object.keys(events)).toEqual(eventNames);
  });

  it('validates event payloads', () => {
    expect(events.instrumentRemoved.safeParse({ id: 'x' }).success).toBe(true);
    expect(events.linkStatus.safeParse({ statuses: [{ id: 'x' }] }).success).toBe(false);
  });
});

describe('the gateway configuration', () => {
  it('names the field of every problem in plain words', () => {
    const parsed = parseGatewayConfig({
      instruments: [
        { id: 'chem1', protocol: 'astm', mode: 'server', port: 15001 },
        { id: 'chem1', protocol: 'astm', mode: 'server', port: 15002 },
      ],
    });
    expect(parsed).toEqual({
      ok: false,
      problems: [
        {
          field: 'instruments[1].id',
          message: 'duplicate id "chem1" (also used by instruments[0])',
        },
      ],
    });
    const wrong = parseGatewayConfig({
      instruments: [{ id: 'h', protocol: 'hl8', mode: 'client', port: 70000, colour: 'red' }],
    });
    expect(wrong.ok ? [] : wrong.problems).toEqual([
      { field: 'instruments[0].protocol', message: 'must be "astm" or "hl7"' },
      { field: 'instruments[0].port', message: 'must be between 1 and 65535' },
      { field: 'instruments[0]', message: 'unknown key "colour"' },
    ]);
  });

  it('refuses two server links on the same port and fills in the defaults', () => {
    const clash = parseGatewayConfig({
      instruments: [
        { id: 'a', protocol: 'astm', mode: 'server', port: 15001 },
        { id: 'b', protocol: 'hl7', mode: 'server', port: 15001 },
      ],
    });
    expect(clash.ok ? [] : clash.problems.map((p) => p.field)).toEqual(['instruments[1].port']);
    const fine = parseGatewayConfig({
      instruments: [{ id: 'a', protocol: 'hl7', mode: 'client', port: 1 }],
    });
    expect(fine.ok && fine.config.instruments[0]).toMatchObject({
      host: '127.0.0.1',
      enabled: true,
      maxConnections: 1,
      reconnect: { initialDelayMs: 1000, maxDelayMs: 60000, factor: 2, jitter: 0.2 },
    });
    expect(fine.ok && fine.config.storage).toEqual({
      durability: 'full',
      retentionDays: 365,
      traceRetentionDays: 30,
      orderExpiryDays: 7,
    });
  });
});
