import { useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { describeLine } from '../../src-shared/config';
import { StatusBadge } from '../components/StatusBadge';
import {
  formatAddress,
  formatAgo,
  formatElapsed,
  displayDay,
  formatTime,
  liveReason,
  problemsWord,
  protocolName,
  statusWord,
} from '../format';
import { PendingOrders } from '../orders/PendingOrders';
import { useAppStore } from '../store';
import { useNow } from '../use-now';
import { ConfirmLinkAction } from './ConfirmLinkAction';
import { Sparkline } from './Sparkline';

export function InstrumentCard({ id }: { id: string }) {
  const status = useAppStore((state) => state.instruments.byId[id]);
  const lastMessage = useAppStore((state) => state.instruments.lastMessage[id]);
  const perMinute = useAppStore((state) => state.stats.byInstrument[id]?.perMinute);
  const { pending, actionError } = useAppStore(
    useShallow((state) => ({
      pending: state.instruments.pending[id],
      actionError: state.instruments.actionError[id],
    })),
  );
  const run = useAppStore((state) => state.runInstrumentAction);
  const openEditor = useAppStore((state) => state.openEditor);
  const liveNow = useNow();
  // Unreachable gateway: nothing here is known past the moment the connection was lost.
  const lostAt = useAppStore((state) => state.ui.lostAt);
  const now = lostAt ?? liveNow;
  const titleId = useId();
  const [confirming, setConfirming] = useState<'reconnect' | 'disconnect' | null>(null);
  if (!status) return null;

  const known = statusWord(status, now);
  const { word, tone } = lostAt === null ? known : { word: 'Unknown', tone: 'off' as const };
  const lastMessageAt = Math.max(status.lastMessageAt ?? 0, lastMessage?.receivedAt ?? 0) || null;
  const counters = status.counters;
  const countersDay = counters.day === displayDay(now) ? 'Today' : `On ${counters.day}`;
  const busy = pending !== undefined;
  /** A working connection is not cut without asking. */
  const linkAction = (action: 'reconnect' | 'disconnect') => {
    if (status.state === 'connected') setConfirming(action);
    else void run(id, action);
  };

  return (
    <article
      className={`card card-${tone}${lostAt === null ? '' : ' card-stale'}`}
      aria-labelledby={titleId}
      aria-busy={busy}
    >
      <header className="card-head">
        <h2 id={titleId} className="card-title" title={status.name}>
          {status.name}
        </h2>
        <StatusBadge word={word} tone={tone} />
        <p className="card-sub">
          {status.serial ? (
            <>
              {protocolName(status.protocol)} · serial ·{' '}
              <span className="mono">{status.serial.path}</span> ·{' '}
              <span className="mono nowrap">{describeLine(status.serial)}</span>
            </>
          ) : (
            <>
              {protocolName(status.protocol)} · {status.mode === 'server' ? 'server' : 'client'} ·{' '}
              {addressWords(status)}{' '}
              <span className="mono">{formatAddress(status.host, status.port ?? 0)}</span>
            </>
          )}
        </p>
      </header>

      {lostAt === null ? (
        <p className="card-reason">
          <span>for {formatElapsed(now - status.since)}</span>
          {status.reason && <span> · {liveReason(status, now)}</span>}
        </p>
      ) : (
        <p className="card-reason">
          The gateway cannot be reached since {formatTime(lostAt, liveNow)}; last known:{' '}
          {known.word.toLowerCase()}.
        </p>
      )}

      <dl className="facts">
        <div>
          <dt>Last message</dt>
          <dd>
            {lastMessageAt === null ? (
              'none yet'
            ) : (
              <>
                {formatTime(lastMessageAt, now)}{' '}
                <span className="muted">({formatAgo(lastMessageAt, now)})</span>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>{countersDay}</dt>
          <dd>
            <span className="nowrap">{counters.messagesIn.toLocaleString('en-US')} in</span> ·{' '}
            <span className="nowrap">{counters.messagesOut.toLocaleString('en-US')} out</span> ·{' '}
            <span className={counters.errors > 0 ? 'nowrap text-warn' : 'nowrap'}>
              {problemsWord(counters.errors)}
            </span>
          </dd>
        </div>
        <PendingOrders instrumentId={id} />
        {status.mode === 'server' && status.peers.length > 0 && (
          <div>
            <dt>Connected from</dt>
            <dd className="mono">{status.peers.join(', ')}</dd>
          </div>
        )}
      </dl>

      <Sparkline perMinute={perMinute} />

      {(status.storageFailing || status.silent || status.lastError) && (
        <ul className="notes">
          {status.storageFailing && (
            <li className="note note-bad">
              <strong>Storage failing:</strong> messages are refused until the database can be
              written again.
            </li>
          )}
          {status.silent && (
            <li className="note note-warn">
              <strong>Silent:</strong> no messages for longer than expected. Check that the analyzer
              is sending.
            </li>
          )}
          {status.lastError && (
            <li className="note">
              <strong>Last problem</strong> at {formatTime(status.lastError.at, now)}:{' '}
              {status.lastError.message} <span className="code">{status.lastError.code}</span>
            </li>
          )}
          {(status.silent || status.lastError) && (
            <li className="note-actions">
              <button
                type="button"
                className="button-quiet"
                disabled={busy}
                onClick={() => void run(id, 'acknowledge')}
              >
                Acknowledge
              </button>{' '}
              <span className="muted">clears it here; the event log keeps it</span>
            </li>
          )}
        </ul>
      )}

      <div className="card-actions">
        {status.enabled ? (
          <>
            <button type="button" disabled={busy} onClick={() => linkAction('reconnect')}>
              Reconnect
            </button>
            <button
              type="button"
              disabled={busy || status.disconnectedByUser}
              onClick={() => linkAction('disconnect')}
            >
              Disconnect
            </button>
          </>
        ) : status.managedBy === 'file' ? null : (
          <button type="button" disabled={busy} onClick={() => void run(id, 'enable')}>
            Enable
          </button>
        )}
        <button
          type="button"
          className="button-quiet"
          onClick={() => openEditor({ kind: 'edit', id })}
        >
          Settings
        </button>
      </div>
      {confirming && (
        <ConfirmLinkAction
          action={confirming}
          name={status.name}
          peers={status.peers}
          onConfirm={() => {
            setConfirming(null);
            void run(id, confirming);
          }}
          onCancel={() => setConfirming(null)}
        />
      )}
      {actionError && (
        <p className="action-error" role="alert">
          {actionError}
        </p>
      )}
    </article>
  );
}

/** What the address is to the link now: a stopped server link is not listening on it. */
function addressWords(status: {
  mode: 'server' | 'client' | null;
  state: string;
  disconnectedByUser: boolean;
}): string {
  const stopped = status.state === 'disabled' || status.disconnectedByUser;
  if (status.mode === 'server') return stopped ? 'set to listen on' : 'listens on';
  return stopped ? 'set to connect to' : 'connects to';
}
