import type { DestinationStatusView } from '../../src-shared/outbox';
import { getApi } from '../api';
import type { SliceCreator } from './app-state';
import { call } from './call';

export type DestinationAction = 'hold' | 'release' | 'retryFailed';

/** What the destination editor shows: a blank form, one destination, or nothing. */
export type DestinationEditor = { kind: 'new' } | { kind: 'edit'; id: string } | null;

export interface DestinationsSlice {
  destinations: {
    /** In the order the gateway lists them. */
    list: DestinationStatusView[];
    loaded: boolean;
    pending: Record<string, DestinationAction | undefined>;
    /** Plain words of the last action that failed, per destination. */
    actionError: Record<string, string | undefined>;
    /** Per destination, what the last Retry failed did, e.g. "3 messages sent again". */
    notice: Record<string, string | undefined>;
    editor: DestinationEditor;
  };
  openDestinationEditor(editor: DestinationEditor): void;
  applyDestinations(statuses: DestinationStatusView[]): void;
  loadDestinations(): Promise<void>;
  runDestinationAction(id: string, action: DestinationAction): Promise<void>;
}

export const createDestinationsSlice: SliceCreator<DestinationsSlice> = (set, get) => ({
  destinations: {
    list: [],
    loaded: false,
    pending: {},
    actionError: {},
    notice: {},
    editor: null,
  },

  openDestinationEditor(editor) {
    set((state) => ({ destinations: { ...state.destinations, editor } }));
  },

  applyDestinations(statuses) {
    set((state) => ({ destinations: { ...state.destinations, list: statuses, loaded: true } }));
  },

  async loadDestinations() {
    const result = await call(() => getApi().listDestinations({}));
    if (result.ok) get().applyDestinations(result.value);
  },

  async runDestinationAction(id, action) {
    const patch = (changes: Partial<DestinationsSlice['destinations']>) =>
      set((state) => ({ destinations: { ...state.destinations, ...changes } }));
    const current = get().destinations;
    patch({
      pending: { ...current.pending, [id]: action },
      actionError: { ...current.actionError, [id]: undefined },
      notice: { ...current.notice, [id]: undefined },
    });
    let error: string | undefined;
    let notice: string | undefined;
    if (action === 'retryFailed') {
      const result = await call(() => getApi().retryFailed({ id }));
      if (result.ok) {
        const n = result.value.resent;
        notice =
          n === 0
            ? 'no failed messages to send again'
            : `${n} failed message${n === 1 ? '' : 's'} sent again`;
      } else error = result.error.message;
    } else {
      const result = await call(() =>
        action === 'hold' ? getApi().holdDestination({ id }) : getApi().releaseDestination({ id }),
      );
      if (!result.ok) error = result.error.message;
    }
    const after = get().destinations;
    patch({
      pending: { ...after.pending, [id]: undefined },
      actionError: { ...after.actionError, [id]: error },
      notice: { ...after.notice, [id]: notice },
    });
    await get().loadDestinations();
  },
});
