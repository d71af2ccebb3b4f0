// @vitest-environment jsdom
import { describe, expect, it, vi } from 'vitest';
import type { LogEntryView, StoredMessageEvent } from '../../src-shared/contract';
import { formatCountdown, formatElapsed, statusWord } from '../../src-renderer/format';
import { notifyGatewayConnection } from '../../src-renderer/api';
import { useAppStore } from '../../src-renderer/store';
import { startBridge } from '../../src-renderer/store/bridge';
import { MIN_PASSING_STATE_MS } from '../../src-renderer/store/instruments-slice';
import { LOG_CAP, mergeLogEntries } from '../../src-renderer/store/log-slice';
import { makeStatus } from './fake-api';
import { withTestGateway } from './harness';

const gateway = withTestGateway();
const state = () => useAppStore.getState();

function entry(at: number, overrides: Partial<LogEntryView> = {}): LogEntryView {
  return {
    id: at,
    at,
    instrumentId: 'cobas',
    level: 'info',
    kind: 'link',
    code: null,
    message: `event at ${at}`,
    ...overrides,
  };
}

function stored(instrumentId: string, receivedAt: number, id = receivedAt): StoredMessageEvent {
  return {
    id,
    instrumentId,
    protocol: 'astm',
    direction: 'in',
    receivedAt,
    controlId: null,
    sampleIds: ['S1'],
    patientIds: [],
    status: 'stored',
    ack: 'ACK',
    resultCount: 1,
    errorCount: 0,
    qc: false,
    duplicate: false,
  };
}

describe('instruments slice', () => {
  it('replaces statuses by id and leaves the others alone', () => {
    state().applyStatuses([makeStatus({ id: 'a' }), makeStatus({ id: 'b' })]);
    state().applyStatuses([makeStatus({ id: 'a', state: 'reconnecting', nextRetryAt: 5 })]);
    expect(state().instruments.byId.a?.state).toBe('reconnecting');
    expect(state().instruments.byId.b?.state).toBe('connected');
    expect(Object.keys(state().instruments.byId)).toHaveLength(2);
  });

  it('removes an instrument with everything held about it', () => {
    state().applyStatuses([makeStatus({ id: 'a' }), makeStatus({ id: 'b' })]);
    state().noteMessagesStored([stored('a', 1_000)]);
    state().removeInstrument('a');
    expect(state().instruments.byId.a).toBeUndefined();
    expect(state().instruments.lastMessage.a).toBeUndefined();
    expect(state().instruments.byId.b).toBeDefined();
  });

  it('keeps the newest stored message per instrument', () => {
    state().noteMessagesStored([stored('a', 2_000), stored('a', 1_000), stored('b', 500)]);
    expect(state().instruments.lastMessage.a?.receivedAt).toBe(2_000);
    expect(state().instruments.lastMessage.b?.receivedAt).toBe(500);
  });

  it('does not let a list that was on its way overwrite newer statuses or bring back removed ones', async () => {
    let answer!: () => void;
    gateway.fake.commands.listInstruments.mockImplementation(
      () =>
        new Promise((resolve) => {
          answer = () =>
            resolve({
              ok: true,
              value: [
                makeStatus({ id: 'a', state: 'connecting' }),
                makeStatus({ id: 'b' }),
                makeStatus({ id: 'c' }),
              ],
            });
        }),
    );
    const loading = state().loadInstruments();
    state().applyStatuses([makeStatus({ id: 'a', state: 'connected' })]);
    state().removeInstrument('b');
    answer();
    await loading;
    expect(state().instruments.loaded).toBe(true);
    expect(state().instruments.byId.a?.state).toBe('connected');
    expect(state().instruments.byId.b).toBeUndefined();
    expect(state().instruments.byId.c).toBeDefined();
  });

  it('records why a card command failed, in plain words', async () => {
    gateway.fake.commands.reconnectInstrument.mockResolvedValue({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'no instrument "a"' },
    });
    await state().runInstrumentAction('a', 'reconnect');
    expect(state().instruments.actionError.a).toBe('Reconnect failed: no instrument "a"');
    expect(state().instruments.pending.a).toBeUndefined();
  });
});

describe('log slice', () => {
  it('merges newest first, without duplicates, and cuts to the cap', () => {
    const held = [entry(3), entry(2), entry(1)];
    const merged = mergeLogEntries(held, [entry(4), entry(3)], 3);
    expect(merged.entries.map((e) => e.at)).toEqual([4, 3, 2]);
    expect(merged.trimmed).toBe(true);
    expect(mergeLogEntries(held, [entry(5)]).trimmed).toBe(false);
  });

  it('holds at most LOG_CAP live entries and stops paging back once it dropped some', () => {
    useAppStore.setState((s) => ({ log: { ...s.log, nextCursor: '100.1', loaded: true } }));
    const batch = Array.from({ length: LOG_CAP - 10 }, (_, i) => entry(i + 1));
    state().appendLogged(batch);
    expect(state().log.entries).toHaveLength(LOG_CAP - 10);
    expect(state().log.nextCursor).toBe('100.1');
    state().appendLogged(Array.from({ length: 20 }, (_, i) => entry(LOG_CAP + i)));
    expect(state().log.entries).toHaveLength(LOG_CAP);
    expect(state().log.entries[0]?.at).toBe(LOG_CAP + 19);
    expect(state().log.trimmed).toBe(true);
    expect(state().log.nextCursor).toBeNull();
  });

  it('keeps live entries that do not match the filter out', async () => {
    await state().setLogFilter({ level: 'error' });
    state().appendLogged([entry(1), entry(2, { level: 'error' })]);
    expect(state().log.entries.map((e) => e.at)).toEqual([2]);
  });
});

describe('stats slice', () => {
  it('keeps the newest figures', () => {
    const perMinute = Array.from({ length: 60 }, () => 1);
    state().applyStats({
      at: 2_000,
      instruments: [{ instrumentId: 'a', perMinute, lastHourIn: 60, lastHourOut: 60 }],
    });
    state().applyStats({ at: 1_000, instruments: [] });
    expect(state().stats.at).toBe(2_000);
    expect(state().stats.byInstrument.a?.perMinute).toHaveLength(60);
  });
});

describe('status words', () => {
  const now = 1_700_000_000_000;
  const word = (overrides: Parameters<typeof makeStatus>[0]) =>
    statusWord(makeStatus(overrides), now).word;

  it('names every state', () => {
    expect(word({ state: 'connected' })).toBe('Connected');
    expect(word({ state: 'listening' })).toBe('Listening');
    expect(word({ state: 'connecting' })).toBe('Connecting');
    expect(word({ state: 'reconnecting', nextRetryAt: now + 8_000 })).toBe('Reconnecting in 8 s');
    expect(word({ state: 'reconnecting', nextRetryAt: null })).toBe('Reconnecting');
    expect(word({ state: 'error', disconnectedByUser: true })).toBe('Disconnected');
    expect(word({ state: 'disabled', enabled: false })).toBe('Disabled');
    expect(word({ state: 'error' })).toBe('Down');
  });

  it('counts down in whole seconds, rounded up, never below zero', () => {
    expect(formatCountdown(8_000)).toBe('8 s');
    expect(formatCountdown(7_001)).toBe('8 s');
    expect(formatCountdown(7_000)).toBe('7 s');
    expect(formatCountdown(0)).toBe('0 s');
    expect(formatCountdown(-1_500)).toBe('0 s');
    expect(formatCountdown(65_000)).toBe('1 min 5 s');
    expect(formatCountdown(120_000)).toBe('2 min');
  });

  it('says how long a state has lasted', () => {
    expect(formatElapsed(12_400)).toBe('12 s');
    expect(formatElapsed(180_000)).toBe('3 min');
    expect(formatElapsed(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(formatElapsed(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
  });
});

describe('bridge', () => {
  it('subscribes once and hands every event to its slice', async () => {
    const historySpy = vi.fn();
    useAppStore.setState({ historyMessagesStored: historySpy });
    const stop = startBridge();
    expect(startBridge()).toBe(stop);
    expect(gateway.fake.listenerCount('linkStatus')).toBe(1);
    await Promise.resolve();

    gateway.fake.emit('linkStatus', { statuses: [makeStatus({ id: 'a' })] });
    expect(state().instruments.byId.a).toBeDefined();

    gateway.fake.emit('messagesStored', { messages: [stored('a', 1_000)] });
    expect(state().instruments.lastMessage.a?.receivedAt).toBe(1_000);
    expect(historySpy).toHaveBeenCalledWith([stored('a', 1_000)]);

    gateway.fake.emit('logged', { entries: [entry(1)] });
    expect(state().log.entries).toHaveLength(1);

    gateway.fake.emit('statsTick', { at: 5, instruments: [] });
    expect(state().stats.at).toBe(5);

    gateway.fake.emit('instrumentRemoved', { id: 'a' });
    expect(state().instruments.byId.a).toBeUndefined();

    stop();
    expect(gateway.fake.listenerCount('linkStatus')).toBe(0);
    expect(gateway.fake.commands.listInstruments).toHaveBeenCalledTimes(1);
    expect(gateway.fake.commands.getStats).toHaveBeenCalledTimes(1);
  });
});

describe('passing states', () => {
  it('keeps Connecting on screen long enough to be seen, then shows what followed', () => {
    vi.useFakeTimers();
    try {
      state().applyStatuses([makeStatus({ id: 'lis', state: 'connected' })]);
      state().applyStatuses([
        makeStatus({ id: 'lis', state: 'connecting' }),
        makeStatus({ id: 'lis', state: 'connected', reason: 'connected again' }),
      ]);
      expect(state().instruments.byId.lis?.state).toBe('connecting');
      vi.advanceTimersByTime(MIN_PASSING_STATE_MS - 1);
      expect(state().instruments.byId.lis?.state).toBe('connecting');
      vi.advanceTimersByTime(1);
      expect(state().instruments.byId.lis).toMatchObject({
        state: 'connected',
        reason: 'connected again',
      });
      // Updates of a settled state apply at once.
      state().applyStatuses([makeStatus({ id: 'lis', state: 'connected', reason: 'still here' })]);
      expect(state().instruments.byId.lis?.reason).toBe('still here');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the connection to the gateway', () => {
  it('is shown as lost while it is down, and the picture is taken again when it is back', async () => {
    await gateway.startBridge();
    const listCalls = () => gateway.fake.commands.listInstruments.mock.calls.length;
    const before = listCalls();
    expect(state().ui.connected).toBe(true);
    notifyGatewayConnection(false);
    expect(state().ui.connected).toBe(false);
    notifyGatewayConnection(true);
    expect(state().ui.connected).toBe(true);
    expect(listCalls()).toBe(before + 1);
    // A first connection is not a reconnection.
    notifyGatewayConnection(true);
    expect(listCalls()).toBe(before + 1);
  });
});
