import type {
  CommandName,
  CommandResult,
  EventName,
  EventPayload,
} from '../../src-shared/contract';

/** One contract event on its way to a window or a browser. */
export type ServiceEvent = { [E in EventName]: { name: E; payload: EventPayload<E> } }[EventName];

/**
 * The contract, served: what the Electron IPC wiring and the WebSocket bridge both carry. Requests
 * arrive unvalidated (they come from an untrusted renderer); `dispatch` validates them, runs the
 * command and never throws: failures come back as coded errors in plain words.
 */
export interface CommandService {
  dispatch<C extends CommandName>(command: C, payload: unknown): Promise<CommandResult<C>>;
  /** Contract events, already coalesced (at most about 10 batches a second). */
  subscribe(listener: (event: ServiceEvent) => void): () => void;
}
