/**
 * The one place that listens to the gateway's events: it subscribes once, hands every event to
 * the store action that owns it, then loads the initial state. Subscribing before loading means
 * nothing that happens during the load is missed; the slices keep whichever is newer.
 */
import type { GatewayApi } from '../../src-shared/contract';
import { getApi, onGatewayConnection } from '../api';
import { useAppStore } from './index';

type Store = typeof useAppStore;

let stopRunning: (() => void) | null = null;

/** Starts the bridge unless it is already running; returns the function that stops it. */
export function startBridge(api: GatewayApi = getApi(), store: Store = useAppStore): () => void {
  if (stopRunning) return stopRunning;
  const state = store.getState;
  const unsubscribers = [
    api.onLinkStatus(({ statuses }) => state().applyStatuses(statuses)),
    api.onInstrumentRemoved(({ id }) => state().removeInstrument(id)),
    api.onMessagesStored(({ messages }) => {
      state().noteMessagesStored(messages);
      state().historyMessagesStored(messages);
    }),
    api.onLogged(({ entries }) => state().appendLogged(entries)),
    api.onStatsTick((stats) => state().applyStats(stats)),
    api.onDestinationStatus(({ statuses }) => state().applyDestinations(statuses)),
    onGatewayConnection((connected) => {
      const wasLost = !state().ui.connected;
      state().setConnected(connected);
      // Events were missed while the line was down: take a fresh picture.
      if (connected && wasLost) {
        void state().loadInstruments();
        void state().loadStats();
        void state().loadDestinations();
      }
    }),
  ];
  const stop = () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
    if (stopRunning === stop) stopRunning = null;
  };
  stopRunning = stop;
  void state().loadInstruments();
  void state().loadStats();
  void state().loadEvents();
  void state().loadAppInfo();
  void state().loadDestinations();
  return stop;
}
