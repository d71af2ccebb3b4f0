import type { StoredMessageEvent } from '../../src-shared/contract';
import type { InstrumentStatus } from '../../src-shared/status';
import { getApi } from '../api';
import type { AppState, SliceCreator } from './app-state';
import { call } from './call';

export type InstrumentAction = 'reconnect' | 'disconnect' | 'enable' | 'acknowledge';

export interface InstrumentsSlice {
  instruments: {
    byId: Record<string, InstrumentStatus>;
    /** The newest stored message of each instrument, as `messagesStored` reported it. */
    lastMessage: Record<string, StoredMessageEvent>;
    loaded: boolean;
    loadError: string | null;
    /** The card command in flight per instrument. */
    pending: Record<string, InstrumentAction>;
    /** Why the last card command failed, per instrument, in plain words. */
    actionError: Record<string, string>;
  };
  loadInstruments(): Promise<void>;
  /**
   * Statuses replace what we hold, by id, in the order given. A passing state such as
   * Connecting stays on screen for at least `MIN_PASSING_STATE_MS`, so a reconnect that takes a
   * few milliseconds is still seen to happen.
   */
  applyStatuses(statuses: readonly InstrumentStatus[]): void;
  removeInstrument(id: string): void;
  noteMessagesStored(messages: readonly StoredMessageEvent[]): void;
  runInstrumentAction(id: string, action: InstrumentAction): Promise<void>;
}

/** How long Connecting or Reconnecting stays visible before the next state replaces it. */
export const MIN_PASSING_STATE_MS = 700;

function isPassing(status: InstrumentStatus | undefined): boolean {
  return status?.state === 'connecting' || status?.state === 'reconnecting';
}

const actionNames: Record<InstrumentAction, string> = {
  reconnect: 'Reconnect',
  disconnect: 'Disconnect',
  enable: 'Enable',
  acknowledge: 'Acknowledge',
};

export const createInstrumentsSlice: SliceCreator<InstrumentsSlice> = (set, get) => {
  /**
   * Ids that events touched while a `listInstruments` call was on its way: the event is newer
   * than the list, so the list must not overwrite it.
   */
  const touchedDuringLoads = new Set<Set<string>>();
  const touch = (id: string) => {
    for (const touched of touchedDuringLoads) touched.add(id);
  };
  /** Statuses waiting for a passing state's minimum time, per instrument, in order. */
  const waiting = new Map<string, InstrumentStatus[]>();
  const shownAt = new Map<string, number>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();

  const show = (status: InstrumentStatus): void => {
    shownAt.set(status.id, Date.now());
    set((state) => ({
      instruments: {
        ...state.instruments,
        byId: { ...state.instruments.byId, [status.id]: status },
      },
    }));
  };
  const pump = (id: string): void => {
    timers.delete(id);
    const queue = waiting.get(id);
    while (queue && queue.length > 0) {
      const current = get().instruments.byId[id];
      const next = queue[0]!;
      const held = isPassing(current) && current!.state !== next.state;
      const left = held ? MIN_PASSING_STATE_MS - (Date.now() - (shownAt.get(id) ?? 0)) : 0;
      if (left > 0) {
        timers.set(
          id,
          setTimeout(() => pump(id), left),
        );
        return;
      }
      queue.shift();
      // Only the last of several same-state updates matters; skip to it.
      if (queue.length > 0 && queue[0]!.state === next.state) continue;
      show(next);
    }
    waiting.delete(id);
  };

  return {
    instruments: {
      byId: {},
      lastMessage: {},
      loaded: false,
      loadError: null,
      pending: {},
      actionError: {},
    },

    async loadInstruments() {
      const touched = new Set<string>();
      touchedDuringLoads.add(touched);
      const result = await call(() => getApi().listInstruments({}));
      touchedDuringLoads.delete(touched);
      if (!result.ok) {
        set((state) => ({
          instruments: { ...state.instruments, loadError: result.error.message },
        }));
        return;
      }
      set((state) => {
        const byId: Record<string, InstrumentStatus> = {};
        for (const id of touched) {
          const current = state.instruments.byId[id];
          if (current) byId[id] = current;
        }
        for (const status of result.value) {
          if (!touched.has(status.id)) byId[status.id] = status;
        }
        return { instruments: { ...state.instruments, byId, loaded: true, loadError: null } };
      });
    },

    applyStatuses(statuses) {
      if (statuses.length === 0) return;
      const ids = new Set<string>();
      for (const status of statuses) {
        touch(status.id);
        const queue = waiting.get(status.id) ?? [];
        queue.push(status);
        waiting.set(status.id, queue);
        ids.add(status.id);
      }
      for (const id of ids) if (!timers.has(id)) pump(id);
    },

    removeInstrument(id) {
      touch(id);
      waiting.delete(id);
      clearTimeout(timers.get(id));
      timers.delete(id);
      set((state) => ({
        instruments: {
          ...state.instruments,
          byId: without(state.instruments.byId, id),
          lastMessage: without(state.instruments.lastMessage, id),
          pending: without(state.instruments.pending, id),
          actionError: without(state.instruments.actionError, id),
        },
      }));
    },

    noteMessagesStored(messages) {
      if (messages.length === 0) return;
      set((state) => {
        const lastMessage = { ...state.instruments.lastMessage };
        for (const message of messages) {
          const held = lastMessage[message.instrumentId];
          if (!held || held.receivedAt <= message.receivedAt) {
            lastMessage[message.instrumentId] = message;
          }
        }
        return { instruments: { ...state.instruments, lastMessage } };
      });
    },

    async runInstrumentAction(id, action) {
      set((state) => ({
        instruments: {
          ...state.instruments,
          pending: { ...state.instruments.pending, [id]: action },
          actionError: without(state.instruments.actionError, id),
        },
      }));
      const api = getApi();
      let problem: string | null = null;
      if (action === 'enable' || action === 'acknowledge') {
        const result = await call(() =>
          action === 'enable'
            ? api.setInstrumentEnabled({ id, enabled: true })
            : api.acknowledgeAlarms({ id }),
        );
        if (result.ok) get().applyStatuses([result.value]);
        else problem = result.error.message;
      } else {
        const result = await call(() =>
          action === 'reconnect'
            ? api.reconnectInstrument({ id })
            : api.disconnectInstrument({ id }),
        );
        if (!result.ok) problem = result.error.message;
      }
      set((state) => ({
        instruments: {
          ...state.instruments,
          pending: without(state.instruments.pending, id),
          actionError:
            problem === null
              ? state.instruments.actionError
              : {
                  ...state.instruments.actionError,
                  [id]: `${actionNames[action]} failed: ${problem}`,
                },
        },
      }));
    },
  };
};

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/** Instruments in the order the UI lists them: by name, then id. */
export function sortedInstruments(state: AppState): InstrumentStatus[] {
  return Object.values(state.instruments.byId).sort(
    (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
  );
}

export function selectInstrumentIds(state: AppState): string[] {
  return sortedInstruments(state).map((status) => status.id);
}

/** How much a card needs looking at: failing first, then raised alarms, then the rest. */
export function attentionRank(status: InstrumentStatus): number {
  if (status.storageFailing || (status.state === 'error' && !status.disconnectedByUser)) return 0;
  if (status.silent || status.lastError) return 1;
  return 2;
}

/** The dashboard's order: problems first, so a failing instrument is never below the fold. */
export function selectDashboardIds(state: AppState): string[] {
  return sortedInstruments(state)
    .sort((a, b) => attentionRank(a) - attentionRank(b))
    .map((status) => status.id);
}

export function selectInstrumentNames(state: AppState): Record<string, string> {
  const names: Record<string, string> = {};
  for (const status of Object.values(state.instruments.byId)) names[status.id] = status.name;
  return names;
}
