import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  channelOf,
  commandNames,
  eventNames,
  subscriberName,
  type GatewayApi,
} from '../../src-shared/contract';
import { fake, resetFakeElectron } from './fake-electron';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

let api: Record<string, unknown>;

beforeAll(async () => {
  resetFakeElectron();
  await import('../../src-main/electron/preload');
  api = fake.exposed.get('gateway') as Record<string, unknown>;
});

describe('the preload bridge', () => {
  it('exposes window.gateway and nothing else', () => {
    expect([...fake.exposed.keys()]).toEqual(['gateway']);
  });

  it('has exactly one function per command and one subscription per event', () => {
    const expected = [...commandNames, ...eventNames.map(subscriberName)].sort();
    expect(Object.keys(api).sort()).toEqual(expected);
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
  });

  it('sends each command on its own channel with the request as the only argument', async () => {
    for (const name of commandNames) {
      const request = { probe: name };
      const call = api[name] as (request: unknown) => Promise<unknown>;
      await expect(call(request)).resolves.toEqual({
        ok: true,
        value: { channel: channelOf(name, 'command') },
      });
      expect(fake.ipcRenderer.invocations.at(-1)).toEqual({
        channel: channelOf(name, 'command'),
        args: [request],
      });
    }
  });

  it('hands each event’s payload, and only the payload, to its subscribers', () => {
    for (const name of eventNames) {
      const subscribe = api[subscriberName(name)] as (listener: (p: unknown) => void) => unknown;
      const received: unknown[][] = [];
      const unsubscribe = subscribe((...args) => received.push(args));
      expect(typeof unsubscribe).toBe('function');
      const channel = channelOf(name, 'event');
      fake.ipcRenderer.emit(channel, { sender: 'the IPC event' }, { probe: name });
      expect(received).toEqual([[{ probe: name }]]);
      (unsubscribe as () => void)();
    }
  });

  it('unsubscribe removes exactly that listener', () => {
    const gateway = api as unknown as GatewayApi;
    const channel = channelOf('linkStatus', 'event');
    const first: unknown[] = [];
    const second: unknown[] = [];
    const offFirst = gateway.onLinkStatus((payload) => first.push(payload));
    const offSecond = gateway.onLinkStatus((payload) => second.push(payload));
    expect(fake.ipcRenderer.listenerCount(channel)).toBe(2);
    offFirst();
    offFirst();
    expect(fake.ipcRenderer.listenerCount(channel)).toBe(1);
    fake.ipcRenderer.emit(channel, {}, { statuses: [] });
    expect(first).toEqual([]);
    expect(second).toEqual([{ statuses: [] }]);
    offSecond();
    expect(fake.ipcRenderer.listenerCount(channel)).toBe(0);
  });

  it('does not hand out ipcRenderer or a generic invoke', () => {
    for (const value of Object.values(api)) expect(value).not.toBe(fake.ipcRenderer);
    expect(api).not.toHaveProperty('invoke');
    expect(api).not.toHaveProperty('send');
    expect(api).not.toHaveProperty('on');
  });
});
