// @vitest-environment jsdom
/**
 * The browser's client of the gateway (src-renderer/api/websocket.ts) when its connection drops:
 * a fake WebSocket class stands in for the browser's, and fake timers for the reconnect delays.
 * The rest is real: the api module's connection listeners, the bridge and the store.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandName, CommandResult, GatewayApi } from '../../src-shared/contract';
import { notifyGatewayConnection, onGatewayConnection, setApi } from '../../src-renderer/api';
import { createWebSocketApi } from '../../src-renderer/api/websocket';
import { resetAppStore, useAppStore } from '../../src-renderer/store';
import { startBridge } from '../../src-renderer/store/bridge';
import { makeStatus } from './fake-api';

interface Call {
  id: number;
  command: CommandName;
  payload: unknown;
}

/** The browser's WebSocket as far as the client uses it; the test plays the gateway. */
class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static made: FakeWebSocket[] = [];

  readyState = FakeWebSocket.CONNECTING;
  readonly sent: Call[] = [];
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent<string>) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.made.push(this);
  }

  send(text: string): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('send on a socket not open');
    this.sent.push(JSON.parse(text) as Call);
  }

  close(): void {
    this.drop();
  }

  // The gateway's side.
  accept(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.(new Event('open'));
  }

  /** The connection ends (gateway stopped, network gone), or an attempt is refused. */
  drop(): void {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.readyState = FakeWebSocket.CLOSED;
    this.onerror?.(new Event('error'));
    this.onclose?.(new CloseEvent('close', { code: 1006 }));
  }

  answer(call: Call, result: CommandResult<CommandName>): void {
    const data = JSON.stringify({ type: 'result', id: call.id, result });
    this.onmessage?.(new MessageEvent('message', { data }));
  }

  sentCommands(): CommandName[] {
    return this.sent.map((call) => call.command);
  }
}

const latest = () => FakeWebSocket.made.at(-1)!;
const state = () => useAppStore.getState();

/** Lets answered calls' promise callbacks run (fake timers leave microtasks alone). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

let stopBridge: (() => void) | null = null;

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.made = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
  resetAppStore();
});

afterEach(() => {
  stopBridge?.();
  stopBridge = null;
  setApi(null);
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function connect(): GatewayApi {
  const api = createWebSocketApi('ws://127.0.0.1:8080/ws', notifyGatewayConnection);
  latest().accept();
  return api;
}

describe('the WebSocket client when the connection drops', () => {
  it('answers the calls still waiting with a coded error in plain words', async () => {
    const api = connect();
    const outcomes: CommandResult<CommandName>[] = [];
    void api.listInstruments({}).then((result) => outcomes.push(result));
    void api.getStats({}).then((result) => outcomes.push(result));
    expect(latest().sentCommands()).toEqual(['listInstruments', 'getStats']);

    latest().drop();
    await settle();
    expect(outcomes).toEqual([
      {
        ok: false,
        error: { code: 'CONNECTION_LOST', message: 'the connection to the gateway was lost' },
      },
      {
        ok: false,
        error: { code: 'CONNECTION_LOST', message: 'the connection to the gateway was lost' },
      },
    ]);
  });

  it('does not send later a call it has already answered as lost', async () => {
    const api = connect();
    latest().drop();
    // Made while the page is disconnected: it waits for the next attempt…
    const outcome = api.reconnectInstrument({ id: 'cobas' });
    vi.advanceTimersByTime(250);
    // …which fails too: the caller is told, and the gateway must never run it afterwards.
    latest().drop();
    expect(await outcome).toMatchObject({ ok: false, error: { code: 'CONNECTION_LOST' } });
    vi.advanceTimersByTime(500);
    latest().accept();
    expect(latest().sentCommands()).not.toContain('reconnectInstrument');
  });

  it('sends a call made while disconnected once the next attempt connects', async () => {
    const api = connect();
    latest().drop();
    const outcome = api.getStats({});
    vi.advanceTimersByTime(250);
    latest().accept();
    const [call] = latest().sent;
    expect(call?.command).toBe('getStats');
    latest().answer(call!, { ok: true, value: { at: 1, instruments: [] } });
    expect(await outcome).toEqual({ ok: true, value: { at: 1, instruments: [] } });
  });

  it('tells its subscribers the connection is lost, and again when it is back', () => {
    const seen: boolean[] = [];
    const unsubscribe = onGatewayConnection((connected) => seen.push(connected));
    try {
      connect();
      latest().drop();
      expect(seen.at(-1)).toBe(false);
      vi.advanceTimersByTime(250);
      latest().accept();
      expect(seen.at(-1)).toBe(true);
    } finally {
      unsubscribe();
    }
  });

  it('reconnects by itself, waiting longer after each failed attempt, up to 5 s', () => {
    connect();
    latest().drop();
    const waits: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      const sockets = FakeWebSocket.made.length;
      let waited = 0;
      while (FakeWebSocket.made.length === sockets) {
        vi.advanceTimersByTime(50);
        waited += 50;
        expect(waited, 'no reconnect attempt within 10 s').toBeLessThanOrEqual(10_000);
      }
      waits.push(waited);
      latest().drop();
    }
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);

    // Once connected, the next drop starts from the shortest wait again.
    vi.advanceTimersByTime(5000);
    latest().accept();
    const sockets = FakeWebSocket.made.length;
    latest().drop();
    vi.advanceTimersByTime(249);
    expect(FakeWebSocket.made.length).toBe(sockets);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.made.length).toBe(sockets + 1);
  });

  it('shows the app the connection lost, then loads status and statistics afresh once back', async () => {
    const api = createWebSocketApi('ws://127.0.0.1:8080/ws', notifyGatewayConnection);
    setApi(api);
    stopBridge = startBridge(api);
    latest().accept();
    // The first load, answered.
    for (const call of latest().sent) {
      if (call.command === 'listInstruments') {
        latest().answer(call, { ok: true, value: [makeStatus({ id: 'cobas' })] });
      }
    }
    await settle();
    expect(state().ui.connected).toBe(true);
    expect(state().instruments.byId.cobas?.state).toBe('connected');

    latest().drop();
    expect(state().ui.connected).toBe(false);
    vi.advanceTimersByTime(250);
    latest().accept();
    expect(state().ui.connected).toBe(true);
    // Events were missed while it was down: the picture is taken again over the new socket.
    expect(latest().sentCommands()).toEqual(['listInstruments', 'getStats', 'listDestinations']);
    const [list, stats] = latest().sent;
    latest().answer(list!, {
      ok: true,
      value: [makeStatus({ id: 'cobas', state: 'reconnecting', nextRetryAt: Date.now() + 8000 })],
    });
    latest().answer(stats!, {
      ok: true,
      value: {
        at: Date.now(),
        instruments: [{ instrumentId: 'cobas', perMinute: [3, 4], lastHourIn: 7, lastHourOut: 7 }],
      },
    });
    await settle();
    vi.advanceTimersByTime(5_000);
    expect(state().instruments.byId.cobas?.state).toBe('reconnecting');
    expect(state().stats.byInstrument.cobas?.lastHourIn).toBe(7);
  });
});
