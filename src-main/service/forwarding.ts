/**
 * Destination commands: the Dashboard's cards (hold, release, retry failed), destinations added
 * and edited at run time (those of the configuration file are changed there), resend, the outbox
 * and a message's delivery attempts.
 */
import {
  describeIssues,
  destinationConfigSchema,
  type DestinationConfig,
} from '../../src-shared/config';
import type { DestinationStatusView } from '../../src-shared/outbox';
import type { Forwarder } from '../forwarding/forwarder';
import type { Clock } from '../protocols/clock';
import type { OutboxStore } from '../store/store';
import { CommandFailure } from './failure';
import type { CommandHandlers } from './handlers';

export type ForwardingControl = Pick<
  Forwarder,
  | 'statuses'
  | 'config'
  | 'add'
  | 'update'
  | 'remove'
  | 'hold'
  | 'release'
  | 'retryFailed'
  | 'resend'
> & { sourceOf(id: string): 'file' | 'app' | null };

export type ForwardingCommand =
  | 'listDestinations'
  | 'createDestination'
  | 'updateDestination'
  | 'deleteDestination'
  | 'holdDestination'
  | 'releaseDestination'
  | 'retryFailed'
  | 'resendMessage'
  | 'listOutbox'
  | 'getMessageForwarding';

/** Local midnight of the day `now` falls in. */
export function localDayStart(now: number): number {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

export function destinationViews(
  forwarding: ForwardingControl,
  now: number,
): DestinationStatusView[] {
  return forwarding.statuses(localDayStart(now)).map((status) => ({
    ...status,
    config: status.config as unknown as Record<string, unknown> | null,
  }));
}

export function forwardingCommands(
  forwarding: ForwardingControl,
  store: OutboxStore,
  clock: Clock,
  configFile: string | undefined,
): CommandHandlers<ForwardingCommand> {
  const view = (id: string): DestinationStatusView => {
    const status = destinationViews(forwarding, clock.now()).find((s) => s.id === id);
    if (!status) throw new CommandFailure('NOT_FOUND', `no destination with the id "${id}"`);
    return status;
  };
  const parse = (config: unknown): DestinationConfig => {
    const parsed = destinationConfigSchema.safeParse(config);
    if (parsed.success) return parsed.data;
    const fields = describeIssues(parsed.error);
    throw new CommandFailure(
      'INVALID_CONFIG',
      `the destination settings have ${fields.length === 1 ? 'a problem' : `${fields.length} problems`}: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`,
      fields,
    );
  };
  const editable = (id: string) => {
    if (forwarding.config(id) === null) {
      throw new CommandFailure('NOT_FOUND', `no destination with the id "${id}"`);
    }
    if (forwarding.sourceOf(id) === 'file') {
      const where = configFile ? `the configuration file ${configFile}` : 'its configuration file';
      throw new CommandFailure(
        'MANAGED_BY_FILE',
        `the destination "${id}" is set up in ${where}; change it there and restart the gateway`,
      );
    }
  };
  const act = (work: () => void) => {
    try {
      work();
    } catch (error) {
      throw new CommandFailure('NOT_FOUND', (error as Error).message);
    }
  };
  return {
    listDestinations: () => destinationViews(forwarding, clock.now()),
    createDestination: ({ config }) => {
      const parsed = parse(config);
      if (forwarding.config(parsed.id) !== null) {
        throw new CommandFailure(
          'DUPLICATE_ID',
          `a destination with the id "${parsed.id}" already exists`,
          [{ field: 'id', message: `"${parsed.id}" is already used` }],
        );
      }
      forwarding.add(parsed);
      return view(parsed.id);
    },
    updateDestination: async ({ config }) => {
      const parsed = parse(config);
      editable(parsed.id);
      await forwarding.update(parsed);
      return view(parsed.id);
    },
    deleteDestination: async ({ id }) => {
      editable(id);
      await forwarding.remove(id);
      return { ok: true as const };
    },
    holdDestination: ({ id }) => {
      act(() => forwarding.hold(id));
      return view(id);
    },
    releaseDestination: ({ id }) => {
      act(() => forwarding.release(id));
      return view(id);
    },
    retryFailed: ({ id }) => ({ resent: forwarding.retryFailed(id) }),
    resendMessage: ({ messageId, destinationId }) => {
      const resent = forwarding.resend(messageId, destinationId ?? null);
      if (resent === 0) {
        throw new CommandFailure(
          'NOT_FOUND',
          `message ${messageId} was not forwarded${destinationId ? ` to "${destinationId}"` : ''}`,
        );
      }
      return { resent };
    },
    listOutbox: (filter) => store.listOutbox(filter),
    getMessageForwarding: ({ messageId }) =>
      store.listOutbox({ messageId }).map((entry) => ({
        entry,
        attempts: store.outboxAttempts(messageId, entry.destinationId),
      })),
  };
}
