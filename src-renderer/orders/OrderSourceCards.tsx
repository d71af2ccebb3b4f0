import { useEffect, useId, useState } from 'react';
import type { OrderSourceStatus } from '../../src-shared/orders';
import { StatusBadge } from '../components/StatusBadge';
import { formatAddress, formatAgo, formatElapsed, formatTime, statusWord } from '../format';
import { useNow } from '../use-now';
import { ordersApi } from './orders-api';
import './orders.css';

const REFRESH_MS = 5_000;

/** The order sources' status, refreshed every few seconds while shown. */
function useOrderSources(): { sources: OrderSourceStatus[]; error: string | null } {
  const [sources, setSources] = useState<OrderSourceStatus[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      void ordersApi.sources().then((answer) => {
        if (!live) return;
        if (answer.ok) {
          setSources(answer.value);
          setError(null);
        } else setError(answer.message);
      });
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);
  return { sources, error };
}

/** The LIS listeners on the dashboard, below the instruments; nothing when there are none. */
export function OrderSourceCards() {
  const { sources, error } = useOrderSources();
  const titleId = useId();
  if (sources.length === 0 && error === null) return null;
  return (
    <section className="order-sources" aria-labelledby={titleId}>
      <h2 id={titleId} className="section-title">
        Order sources
      </h2>
      {error && (
        <p className="banner banner-bad" role="alert">
          Could not get the order sources: {error}
        </p>
      )}
      <div className="cards">
        {sources.map((source) => (
          <OrderSourceCard key={source.id} source={source} />
        ))}
      </div>
    </section>
  );
}

function OrderSourceCard({ source }: { source: OrderSourceStatus }) {
  const now = useNow();
  const titleId = useId();
  const connected = source.state === 'connected' || source.peers.length > 0;
  const { word, tone } = connected
    ? { word: 'LIS connected', tone: 'ok' as const }
    : statusWord({ ...source, nextRetryAt: null, disconnectedByUser: false }, now);
  return (
    <article
      className={`card card-${tone}`}
      aria-labelledby={titleId}
      data-testid="order-source-card"
    >
      <header className="card-head">
        <h3 id={titleId} className="card-title" title={source.id}>
          {source.id}
        </h3>
        <StatusBadge word={word} tone={tone} />
        <p className="card-sub">
          Orders from the LIS · HL7 · listens on{' '}
          <span className="mono">{formatAddress(source.host, source.port)}</span>
        </p>
      </header>
      <p className="card-reason">
        <span>for {formatElapsed(now - source.since)}</span>
        {source.reason && <span> · {source.reason}</span>}
      </p>
      <dl className="facts">
        <div>
          <dt>Connected from</dt>
          <dd className={source.peers.length > 0 ? 'mono' : 'muted'}>
            {source.peers.length > 0 ? source.peers.join(', ') : 'no LIS connected'}
          </dd>
        </div>
        <div>
          <dt>Orders today</dt>
          <dd data-testid="orders-today">{source.ordersToday}</dd>
        </div>
        <div>
          <dt>Last order</dt>
          <dd>
            {source.lastOrderAt === null ? (
              'none since the gateway started'
            ) : (
              <>
                {formatTime(source.lastOrderAt, now)}{' '}
                <span className="muted">({formatAgo(source.lastOrderAt, now)})</span>
              </>
            )}
          </dd>
        </div>
      </dl>
      {source.lastError && (
        <ul className="notes">
          <li className="note">
            <strong>Last error</strong> at {formatTime(source.lastError.at, now)}:{' '}
            {source.lastError.message} <span className="code">{source.lastError.code}</span>
          </li>
        </ul>
      )}
    </article>
  );
}
