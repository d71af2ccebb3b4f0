import { useEffect, type MouseEvent } from 'react';
import { Dashboard } from './dashboard/Dashboard';
import { EventLog } from './events/EventLog';
import { HistoryView } from './history/HistoryView';
import { InstrumentsPage } from './instruments/InstrumentsPage';
import { OrdersPage } from './orders/OrdersPage';
import { describeZone } from '../src-shared/time-zone';
import { useAppStore } from './store';
import { useNow } from './use-now';
import { hashOf, pageFromHash, pages, pageTitles, type Page } from './store/ui-slice';

export function App() {
  const page = useAppStore((state) => state.ui.page);
  const setPage = useAppStore((state) => state.setPage);
  const version = useAppStore((state) => state.ui.appInfo?.version);
  const connected = useAppStore((state) => state.ui.connected);
  const timeZone = useAppStore((state) => state.ui.appInfo?.timeZone);
  // The offset changes twice a year at most; a minute's refresh is plenty.
  const now = useNow(60_000);

  // The page lives in the URL hash too, so reloading keeps it and Back works (also from file://).
  useEffect(() => {
    const follow = () => {
      const fromHash = pageFromHash(window.location.hash);
      if (fromHash) setPage(fromHash);
    };
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, [setPage]);

  useEffect(() => {
    if (pageFromHash(window.location.hash) !== page) window.location.hash = hashOf(page);
    document.title = `${pageTitles[page]} · Lab Gateway`;
  }, [page]);

  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={focusMain}>
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          <svg className="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M9 3h6M10 3v6.5L4.6 18.4A1.7 1.7 0 0 0 6 21h12a1.7 1.7 0 0 0 1.4-2.6L14 9.5V3" />
          </svg>
          Lab Gateway
        </span>
        <nav aria-label="Main">
          <ul className="nav">
            {pages.map((target) => (
              <li key={target}>
                <a
                  href={hashOf(target)}
                  className="nav-link"
                  aria-current={target === page ? 'page' : undefined}
                  onClick={() => setPage(target)}
                >
                  {pageTitles[target]}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="time-zone" title="Every time on these pages is in this zone">
          Times in {describeZone(timeZone, now)}
        </span>
        {version && <span className="version">v{version}</span>}
      </header>
      {!connected && (
        <div role="alert" className="connection-lost">
          The connection to the gateway was lost; reconnecting… What this page shows may be out of
          date until it is back.
        </div>
      )}
      <main id="main" tabIndex={-1} className="main">
        <CurrentPage page={page} />
      </main>
    </div>
  );
}

function CurrentPage({ page }: { page: Page }) {
  switch (page) {
    case 'dashboard':
      return <Dashboard />;
    case 'history':
      return <HistoryView store={useAppStore} />;
    case 'orders':
      return <OrdersPage />;
    case 'events':
      return <EventLog />;
    case 'instruments':
      return <InstrumentsPage />;
  }
}

function focusMain(event: MouseEvent) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}
