import type { Clock } from '../protocols/clock';
import type { LinkState, LinkStatus } from './types';

export type StatusChange = Partial<Omit<LinkStatus, 'since' | 'lastActivityAt'>>;

/**
 * One link's status. `since` moves only when the state changes; a status event goes out when
 * anything but the activity time changes, so byte traffic does not flood the listeners.
 */
export class StatusKeeper {
  private current: LinkStatus;

  constructor(
    private readonly clock: Clock,
    private readonly publish: (status: LinkStatus) => void,
    state: LinkState,
    reason: string,
  ) {
    this.current = {
      state,
      since: clock.now(),
      reason,
      peers: [],
      nextRetryAt: null,
      lastActivityAt: null,
      connections: 0,
      disconnectedByUser: false,
    };
  }

  get status(): LinkStatus {
    return { ...this.current, peers: [...this.current.peers] };
  }

  get state(): LinkState {
    return this.current.state;
  }

  update(change: StatusChange): void {
    const next: LinkStatus = { ...this.current, ...change };
    if (next.state !== this.current.state) next.since = this.clock.now();
    if (sameStatus(next, this.current)) return;
    this.current = next;
    this.publish(this.status);
  }

  touch(at: number): void {
    this.current.lastActivityAt = at;
  }
}

function sameStatus(a: LinkStatus, b: LinkStatus): boolean {
  return (
    a.state === b.state &&
    a.since === b.since &&
    a.reason === b.reason &&
    a.nextRetryAt === b.nextRetryAt &&
    a.connections === b.connections &&
    a.disconnectedByUser === b.disconnectedByUser &&
    a.peers.length === b.peers.length &&
    a.peers.every((peer, index) => peer === b.peers[index])
  );
}

/** Shown after a manual disconnect: configured and enabled, but deliberately not talking. */
export function disconnectedByUser(
  keeper: StatusKeeper,
  reason: string,
  peers: Pick<LinkStatus, 'peers' | 'connections'>,
): void {
  keeper.update({
    state: 'error',
    reason,
    nextRetryAt: null,
    disconnectedByUser: true,
    ...peers,
  });
}

/** Shown once a link has closed for good. */
export function stopped(keeper: StatusKeeper): void {
  keeper.update({
    state: 'disabled',
    reason: 'stopped',
    nextRetryAt: null,
    disconnectedByUser: false,
    peers: [],
    connections: 0,
  });
}
