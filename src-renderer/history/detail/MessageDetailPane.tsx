/** The selected message: a header in plain words and tabs for results, parse, bytes and trace. */
import { useId, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { MessageDetail } from '../../../src-shared/contract';
import { profileNamed } from '../../../src-shared/profiles';
import { QcBadge } from '../QcBadge';
import type { DetailTab } from '../../store/history-slice';
import { useHistory } from '../store-context';
import {
  ackWords,
  directionWord,
  formatFullTime,
  listOrDash,
  plural,
  protocolWord,
  statusTone,
  statusWord,
} from '../words';
import { HexView } from './HexView';
import { ParsedTree } from './ParsedTree';
import { RawView } from './RawView';
import { OrdersResulted } from '../../orders/OrdersResulted';
import { ResultsTable } from './ResultsTable';
import { TraceView } from './TraceView';
import { ForwardingView } from './ForwardingView';

const TABS: { tab: DetailTab; label: string }[] = [
  { tab: 'results', label: 'Results' },
  { tab: 'parsed', label: 'Parsed' },
  { tab: 'raw', label: 'Raw' },
  { tab: 'hex', label: 'Hex' },
  { tab: 'trace', label: 'Trace' },
  { tab: 'forwarding', label: 'Forwarding' },
];

export function MessageDetailPane() {
  const { openId, entry, instruments } = useHistory(
    useShallow((state) => ({
      openId: state.history.openId,
      entry:
        state.history.openId === null ? undefined : state.history.details[state.history.openId],
      instruments: state.history.instruments,
    })),
  );
  const historyOpen = useHistory((state) => state.historyOpen);

  let body;
  if (openId === null) {
    body = (
      <p className="history-empty">
        Choose a message (click it, or move with the arrow keys and press Enter) to see its results,
        parsed records, raw bytes and the exchange on the wire.
      </p>
    );
  } else if (!entry || entry.state === 'loading') {
    body = <p className="history-empty">Loading message {openId}…</p>;
  } else if (entry.state === 'failed') {
    body = (
      <div className="history-problem" role="alert">
        Could not load message {openId}: {entry.error.message}{' '}
        <button type="button" onClick={() => void historyOpen(openId)}>
          Try again
        </button>
      </div>
    );
  } else {
    const name =
      instruments.find((instrument) => instrument.id === entry.detail.instrumentId)?.name ??
      entry.detail.instrumentId;
    body = (
      <>
        <DetailHeader detail={entry.detail} instrumentName={name} />
        <DetailTabs key={entry.detail.id} detail={entry.detail} />
      </>
    );
  }
  return (
    <section className="history-detail" aria-label="Message detail">
      {body}
    </section>
  );
}

function DetailHeader({
  detail,
  instrumentName,
}: {
  detail: MessageDetail;
  instrumentName: string;
}) {
  const from = detail.direction === 'in' ? `from ${instrumentName}` : `to ${instrumentName}`;
  return (
    <header className="history-detail-header">
      <h2>
        Message {detail.id}
        {detail.controlId ? (
          <span className="history-mono"> · control ID {detail.controlId}</span>
        ) : null}
      </h2>
      <dl className="history-facts">
        <dt>Status</dt>
        <dd>
          <span className={`history-status history-tone-${statusTone(detail.status)}`}>
            {statusWord(detail.status)}
          </span>
          {detail.qc && <QcBadge />}
        </dd>
        <dt>{directionWord(detail.direction)}</dt>
        <dd>
          {formatFullTime(detail.receivedAt)} {from} ({protocolWord(detail.protocol)})
        </dd>
        <dt>Sample IDs</dt>
        <dd className="history-mono">{listOrDash(detail.sampleIds)}</dd>
        <dt>Patient IDs</dt>
        <dd className="history-mono">{listOrDash(detail.patientIds)}</dd>
        <dt>Acknowledgement</dt>
        <dd>{ackWords(detail.ack, detail.direction)}</dd>
        <dt>Problems</dt>
        <dd>
          {detail.errors.length === 0 ? (
            'None'
          ) : (
            <ul className="history-problems">
              {detail.errors.map((error, index) => (
                <li key={index} className="history-problem">
                  {error.message} <span className="history-code">({error.code})</span>
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Results</dt>
        <dd>
          {plural(detail.results.length, 'result')}
          {detail.qc &&
            `, ${plural(detail.results.filter((r) => r.qc).length, 'quality-control result')}`}
        </dd>
        {detail.direction === 'in' && (
          <>
            <dt>Read with</dt>
            <dd>{profileWords(detail.profile)}</dd>
          </>
        )}
        {detail.orders && detail.orders.length > 0 && <OrdersResulted orders={detail.orders} />}
      </dl>
    </header>
  );
}

function DetailTabs({ detail }: { detail: MessageDetail }) {
  const tab = useHistory((state) => state.history.tab);
  const historySetTab = useHistory((state) => state.historySetTab);
  const ids = useId();
  const tabId = (which: DetailTab) => `${ids}-tab-${which}`;
  const panelId = `${ids}-panel`;

  const onKeyDown = (event: KeyboardEvent) => {
    const current = TABS.findIndex((entry) => entry.tab === tab);
    const moves: Record<string, number> = {
      ArrowRight: (current + 1) % TABS.length,
      ArrowLeft: (current - 1 + TABS.length) % TABS.length,
      Home: 0,
      End: TABS.length - 1,
    };
    const next = moves[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = TABS[next]!.tab;
    historySetTab(target);
    document.getElementById(tabId(target))?.focus();
  };

  return (
    <div className="history-tabs">
      <div
        role="tablist"
        aria-label="Message views"
        className="history-tablist"
        onKeyDown={onKeyDown}
      >
        {TABS.map((entry) => {
          const selected = entry.tab === tab;
          return (
            <button
              key={entry.tab}
              id={tabId(entry.tab)}
              type="button"
              role="tab"
              aria-selected={selected}
              aria-controls={selected ? panelId : undefined}
              tabIndex={selected ? 0 : -1}
              onClick={() => historySetTab(entry.tab)}
            >
              {entry.label}
            </button>
          );
        })}
      </div>
      <div
        id={panelId}
        role="tabpanel"
        aria-labelledby={tabId(tab)}
        tabIndex={0}
        className="history-tabpanel"
      >
        {tab === 'results' && <ResultsTable detail={detail} />}
        {tab === 'parsed' && <ParsedTree segments={detail.parsed} results={detail.results} />}
        {tab === 'raw' && <RawView detail={detail} />}
        {tab === 'hex' && <HexView raw={detail.raw} />}
        {tab === 'trace' && <TraceView detail={detail} />}
        {tab === 'forwarding' && <ForwardingView messageId={detail.id} />}
      </div>
    </div>
  );
}

function profileWords(name: string | null): string {
  if (name === null) return 'The generic reading (no instrument profile)';
  const profile = profileNamed(name);
  return profile ? `The ${profile.title} profile (${name})` : `The profile "${name}"`;
}
