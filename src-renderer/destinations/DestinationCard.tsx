import { useId } from 'react';
import type { DestinationStatusView } from '../../src-shared/outbox';
import { StatusBadge } from '../components/StatusBadge';
import { formatAddress, formatAgo, formatElapsed, type Tone } from '../format';
import { useAppStore } from '../store';
import { useNow } from '../use-now';
import { DestinationEditorPanel } from './DestinationEditor';

const TYPE_NAMES = { hl7: 'HL7 over MLLP', http: 'HTTP', file: 'Files' } as const;

/** The state in words and colour, as a technician reads it at a glance. */
export function destinationWord(status: DestinationStatusView): { word: string; tone: Tone } {
  switch (status.state) {
    case 'idle':
      return { word: 'Up to date', tone: 'ok' };
    case 'delivering':
      return { word: 'Delivering', tone: 'ok' };
    case 'waiting':
      return { word: 'Unreachable', tone: 'bad' };
    case 'retrying':
      return { word: 'Retrying', tone: 'bad' };
    case 'held':
      return { word: 'On hold', tone: 'pending' };
    case 'disabled':
      return { word: 'Disabled', tone: 'off' };
    case 'removed':
      return { word: 'Removed', tone: 'off' };
  }
}

function where(status: DestinationStatusView): string {
  const config = status.config ?? {};
  if (status.type === 'hl7' && typeof config.host === 'string' && typeof config.port === 'number') {
    return formatAddress(config.host, config.port);
  }
  if (status.type === 'http' && typeof config.url === 'string') return config.url;
  if (status.type === 'file' && typeof config.directory === 'string') return config.directory;
  return '';
}

export function DestinationCard({ status }: { status: DestinationStatusView }) {
  const pending = useAppStore((state) => state.destinations.pending[status.id]);
  const actionError = useAppStore((state) => state.destinations.actionError[status.id]);
  const notice = useAppStore((state) => state.destinations.notice[status.id]);
  const run = useAppStore((state) => state.runDestinationAction);
  const openEditor = useAppStore((state) => state.openDestinationEditor);
  const now = useNow();
  const titleId = useId();
  const { word, tone } = destinationWord(status);
  const waiting = status.pending + status.heldEntries;
  const busy = pending !== undefined;
  // While it is being retried, the reason above already says what went wrong.
  const lastError = status.lastError === status.reason ? null : status.lastError;

  return (
    <article
      className={`card card-${tone}`}
      aria-labelledby={titleId}
      aria-busy={busy}
      data-destination={status.id}
    >
      <header className="card-head">
        <h2 id={titleId} className="card-title" title={status.name}>
          {status.name}
        </h2>
        <StatusBadge word={word} tone={tone} />
        <p className="card-sub">
          LIS · {TYPE_NAMES[status.type]}
          {where(status) && (
            <>
              {' '}
              · <span className="mono">{where(status)}</span>
            </>
          )}
        </p>
      </header>

      <p className="card-reason">
        {status.reason}
        {status.nextRetryAt !== null && status.nextRetryAt > now && (
          <span> · next try in {formatElapsed(status.nextRetryAt - now)}</span>
        )}
      </p>

      <dl className="facts">
        <div>
          <dt>Waiting</dt>
          <dd>
            <span className="nowrap">
              {waiting} {waiting === 1 ? 'message' : 'messages'}
            </span>
            {status.heldEntries > 0 && <span className="muted"> ({status.heldEntries} held)</span>}
          </dd>
        </div>
        <div>
          <dt>Oldest waiting</dt>
          <dd className={status.alarm ? 'text-bad' : undefined}>
            {status.oldestWaitingAt === null ? 'none' : formatAgo(status.oldestWaitingAt, now)}
          </dd>
        </div>
        <div>
          <dt>Delivered today</dt>
          <dd>{status.deliveredToday} delivered</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd className={status.failed > 0 ? 'text-bad' : undefined}>
            {status.failed} failed
            {status.failed > 0 && <span className="muted"> (until sent again)</span>}
          </dd>
        </div>
      </dl>

      {(status.alarm || lastError) && (
        <ul className="notes">
          {status.alarm && (
            <li className="note note-bad">
              <strong>Backlog:</strong> messages have been waiting longer than the alarm threshold.
            </li>
          )}
          {lastError && (
            <li className="note">
              <strong>Last error:</strong> {lastError}
            </li>
          )}
        </ul>
      )}

      {status.state !== 'removed' && (
        <div className="card-actions">
          {status.held ? (
            <button type="button" disabled={busy} onClick={() => void run(status.id, 'release')}>
              Release
            </button>
          ) : (
            <button type="button" disabled={busy} onClick={() => void run(status.id, 'hold')}>
              Hold
            </button>
          )}
          <button
            type="button"
            disabled={busy || status.failed === 0}
            onClick={() => void run(status.id, 'retryFailed')}
          >
            Retry failed
          </button>
          <button type="button" onClick={() => openEditor({ kind: 'edit', id: status.id })}>
            {status.source === 'app' ? 'Edit' : 'Settings'}
          </button>
        </div>
      )}
      {notice && (
        <p className="muted" role="status">
          {notice}
        </p>
      )}
      {actionError && (
        <p className="action-error" role="alert">
          {actionError}
        </p>
      )}
    </article>
  );
}

export function DestinationCards() {
  const list = useAppStore((state) => state.destinations.list);
  const openEditor = useAppStore((state) => state.openDestinationEditor);
  const down = list.filter((d) => d.state === 'waiting' || d.state === 'retrying').length;
  const failed = list.reduce((n, d) => n + d.failed, 0);
  return (
    <section aria-labelledby="destinations-title" className="destinations">
      <div className="page-head">
        <h2 id="destinations-title">Results to the LIS</h2>
        <p className="page-summary">
          {list.length} {list.length === 1 ? 'destination' : 'destinations'}
          {down > 0 ? `: ${down} not reachable` : ''}
          {failed > 0 ? `, ${failed} failed ${failed === 1 ? 'message' : 'messages'}` : ''}
          {list.length === 0 ? ': results stay in the gateway until one is added' : ''}
        </p>
        <button
          type="button"
          className="page-head-action"
          onClick={() => openEditor({ kind: 'new' })}
        >
          Add destination
        </button>
      </div>
      <DestinationEditorPanel />
      {list.length > 0 && (
        <div className="cards">
          {list.map((status) => (
            <DestinationCard key={status.id} status={status} />
          ))}
        </div>
      )}
    </section>
  );
}
