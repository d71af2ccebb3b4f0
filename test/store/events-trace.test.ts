import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent, Store, StoredEvent } from '../../src-main/store';
import { storeSandbox, T0 } from './fixtures';

let sandbox: ReturnType<typeof storeSandbox>;
let store: Store;
beforeEach(() => {
  sandbox = storeSandbox();
  store = sandbox.open();
});
afterEach(() => sandbox.cleanup());

describe('event log', () => {
  const events: NewEvent[] = [
    {
      at: T0,
      instrumentId: 'chem1',
      kind: 'status',
      level: 'info',
      message: 'connected to 10.0.0.5',
    },
    {
      at: T0 + 1,
      instrumentId: 'chem1',
      kind: 'protocol-error',
      level: 'warn',
      code: 'ASTM_BAD_CHECKSUM',
      message: 'frame 3: checksum expected 3A, got 3B',
      data: { frame: 3, expected: '3A', got: '3B' },
    },
    {
      at: T0 + 2,
      kind: 'storage',
      level: 'error',
      code: 'STORE_FULL',
      message: 'not acknowledging: storage failed',
    },
    {
      at: T0 + 2,
      instrumentId: 'hema1',
      kind: 'user-action',
      level: 'info',
      message: 'reconnect pressed',
    },
  ];

  it('stores events and lists them newest first with their data', () => {
    const ids = store.insertEvents(events);
    expect(ids).toHaveLength(4);
    const listed = store.listEvents().items;
    expect(listed.map((e) => e.message)).toEqual([
      'reconnect pressed',
      'not acknowledging: storage failed',
      'frame 3: checksum expected 3A, got 3B',
      'connected to 10.0.0.5',
    ]);
    expect(listed[2]).toEqual<StoredEvent>({
      id: ids[1]!,
      at: T0 + 1,
      instrumentId: 'chem1',
      kind: 'protocol-error',
      level: 'warn',
      code: 'ASTM_BAD_CHECKSUM',
      message: 'frame 3: checksum expected 3A, got 3B',
      data: { frame: 3, expected: '3A', got: '3B' },
    });
    expect(listed[1]).toMatchObject({ instrumentId: null, data: null });
  });

  it('filters and pages', () => {
    store.insertEvents(events);
    expect(store.listEvents({ instrumentId: 'chem1' }).items).toHaveLength(2);
    expect(store.listEvents({ kind: 'storage' }).items.map((e) => e.code)).toEqual(['STORE_FULL']);
    expect(store.listEvents({ level: 'info' }).items).toHaveLength(2);
    expect(store.listEvents({ from: T0 + 1, to: T0 + 2 }).items).toHaveLength(1);
    const first = store.listEvents({ limit: 3 });
    expect(first.items).toHaveLength(3);
    const second = store.listEvents({ limit: 3, cursor: first.nextCursor });
    expect(second.items.map((e) => e.message)).toEqual(['connected to 10.0.0.5']);
    expect(second.nextCursor).toBeNull();
    expect(store.listEvents({ order: 'asc', limit: 1 }).items[0]!.message).toBe(
      'connected to 10.0.0.5',
    );
  });

  it('refuses malformed events in plain words', () => {
    const bad = [
      { ...events[0]!, level: 'fatal' },
      { ...events[0]!, message: '' },
      { ...events[0]!, data: { big: 10n } },
      { ...events[0]!, at: -1 },
    ];
    for (const event of bad) {
      expect(() => store.insertEvents([event as NewEvent])).toThrow(
        expect.objectContaining({ code: 'STORE_INVALID' }),
      );
      expect(() => store.enqueueEvent(event as NewEvent)).toThrow(
        expect.objectContaining({ code: 'STORE_INVALID' }),
      );
    }
    expect(store.counts().events).toBe(0);
  });
});

describe('session trace', () => {
  it('keeps every chunk with its time and direction, oldest first, bytes exact', () => {
    const chunk = (connectionId: string, at: number, direction: 'in' | 'out', bytes: number[]) => ({
      instrumentId: 'chem1',
      connectionId,
      at,
      direction,
      bytes: Buffer.from(bytes),
    });
    store.appendTrace([
      chunk('c1', T0, 'in', [0x05]),
      chunk('c1', T0 + 3, 'out', [0x06]),
      chunk('c1', T0 + 10, 'in', [0x02, 0x31, 0x48, 0x7c, 0x0d, 0x03, 0x41, 0x42, 0x0d, 0x0a]),
      chunk('c2', T0 + 11, 'in', [0x04]),
      { ...chunk('c1', T0 + 12, 'in', [0xff, 0x00]), instrumentId: 'hema1' },
    ]);
    const page = store.getTrace({ instrumentId: 'chem1', from: T0, to: T0 + 100 });
    expect(page.items.map((e) => [e.connectionId, e.at - T0, e.direction])).toEqual([
      ['c1', 0, 'in'],
      ['c1', 3, 'out'],
      ['c1', 10, 'in'],
      ['c2', 11, 'in'],
    ]);
    expect([...page.items[2]!.bytes]).toEqual([
      0x02, 0x31, 0x48, 0x7c, 0x0d, 0x03, 0x41, 0x42, 0x0d, 0x0a,
    ]);
    expect(
      store.getTrace({ instrumentId: 'chem1', connectionId: 'c2', from: T0, to: T0 + 100 }).items,
    ).toHaveLength(1);
    expect(store.getTrace({ instrumentId: 'chem1', from: T0 + 1, to: T0 + 10 }).items).toHaveLength(
      1,
    );
    const first = store.getTrace({ instrumentId: 'chem1', from: T0, to: T0 + 100, limit: 3 });
    const rest = store.getTrace({
      instrumentId: 'chem1',
      from: T0,
      to: T0 + 100,
      limit: 3,
      cursor: first.nextCursor,
    });
    expect([...first.items, ...rest.items].map((e) => e.id)).toEqual(page.items.map((e) => e.id));
  });
});

describe('instruments', () => {
  it('keeps configurations with their creation and change times', () => {
    let now = T0;
    const store2 = sandbox.open({ file: sandbox.file('config.sqlite'), now: () => now });
    const config = { name: 'Chemistry analyzer', protocol: 'astm', mode: 'server', port: 15001 };
    expect(store2.upsertInstrument('chem1', config)).toEqual({
      id: 'chem1',
      config,
      source: 'app',
      createdAt: T0,
      updatedAt: T0,
    });
    now += 5000;
    store2.upsertInstrument('chem1', { ...config, port: 15002 }, 'file');
    store2.upsertInstrument('hema1', { protocol: 'hl7' });
    expect(store2.getInstrument('chem1')).toEqual({
      id: 'chem1',
      config: { ...config, port: 15002 },
      source: 'file',
      createdAt: T0,
      updatedAt: T0 + 5000,
    });
    expect(store2.listInstruments().map((i) => i.id)).toEqual(['chem1', 'hema1']);
    expect(store2.deleteInstrument('chem1')).toBe(true);
    expect(store2.deleteInstrument('chem1')).toBe(false);
    expect(store2.getInstrument('chem1')).toBeNull();
    expect(() => store2.upsertInstrument('', {})).toThrow(
      expect.objectContaining({ code: 'STORE_INVALID' }),
    );
  });
});
