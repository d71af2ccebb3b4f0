import { useShallow } from 'zustand/react/shallow';
import type { LinkState } from '../../src-shared/status';
import { useAppStore, type AppState } from '../store';
import { attentionRank, selectDashboardIds } from '../store/instruments-slice';
import { DestinationCards } from '../destinations/DestinationCard';
import { FirstRun } from './FirstRun';
import { OrderSourceCards } from '../orders/OrderSourceCards';
import { InstrumentCard } from './InstrumentCard';

const stateOrder: [LinkState, string][] = [
  ['connected', 'connected'],
  ['listening', 'listening'],
  ['connecting', 'connecting'],
  ['reconnecting', 'reconnecting'],
  ['error', 'down'],
  ['disabled', 'disabled'],
];

/** "4 instruments: 2 connected, 1 listening, 1 down". */
function summarize(state: AppState): string {
  const statuses = Object.values(state.instruments.byId);
  const counts = new Map<LinkState, number>();
  for (const status of statuses) counts.set(status.state, (counts.get(status.state) ?? 0) + 1);
  const parts = stateOrder
    .filter(([linkState]) => counts.has(linkState))
    .map(([linkState, word]) => `${counts.get(linkState)} ${word}`);
  const noun = statuses.length === 1 ? 'instrument' : 'instruments';
  if (!state.ui.connected) {
    return `${statuses.length} ${noun}: status unknown while the gateway cannot be reached`;
  }
  const attention = statuses.filter((status) => attentionRank(status) < 2).length;
  const alarms = attention > 0 ? `; ${attention} need${attention === 1 ? 's' : ''} attention` : '';
  return `${statuses.length} ${noun}: ${parts.join(', ')}${alarms}`;
}

export function Dashboard() {
  const ids = useAppStore(useShallow(selectDashboardIds));
  const { loaded, loadError } = useAppStore(
    useShallow((state) => ({
      loaded: state.instruments.loaded,
      loadError: state.instruments.loadError,
    })),
  );
  const summary = useAppStore(summarize);
  const loadInstruments = useAppStore((state) => state.loadInstruments);
  const openEditor = useAppStore((state) => state.openEditor);

  return (
    <section className="page" aria-labelledby="dashboard-title">
      <div className="page-head">
        <h1 id="dashboard-title">Dashboard</h1>
        {ids.length > 0 && <p className="page-summary">{summary}</p>}
        {ids.length > 0 && (
          <button
            type="button"
            className="page-head-action"
            onClick={() => openEditor({ kind: 'new' })}
          >
            Add instrument
          </button>
        )}
      </div>
      {loadError && (
        <div className="banner banner-bad" role="alert">
          <p>Could not get the instruments: {loadError}</p>
          <button type="button" onClick={() => void loadInstruments()}>
            Try again
          </button>
        </div>
      )}
      {!loaded && !loadError && (
        <p className="muted" role="status">
          Loading instruments…
        </p>
      )}
      {loaded && ids.length === 0 && <FirstRun />}
      {ids.length > 0 && (
        <div className="cards">
          {ids.map((id) => (
            <InstrumentCard key={id} id={id} />
          ))}
        </div>
      )}
      <OrderSourceCards />
      <DestinationCards />
    </section>
  );
}
