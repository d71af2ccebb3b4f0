import { useEffect, useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { LogEntryView } from '../../src-shared/contract';
import { LEVEL_WORDS as levelWords, formatTime } from '../format';
import { useAppStore } from '../store';
import { selectInstrumentIds, selectInstrumentNames } from '../store/instruments-slice';
import type { LogLevel } from '../store/log-slice';
import { useNow } from '../use-now';

export function EventLog() {
  const log = useAppStore(
    useShallow((state) => ({
      entries: state.log.entries,
      filter: state.log.filter,
      nextCursor: state.log.nextCursor,
      loading: state.log.loading,
      loaded: state.log.loaded,
      error: state.log.error,
      trimmed: state.log.trimmed,
    })),
  );
  const ids = useAppStore(useShallow(selectInstrumentIds));
  const names = useAppStore(useShallow(selectInstrumentNames));
  const setLogFilter = useAppStore((state) => state.setLogFilter);
  const loadOlderEvents = useAppStore((state) => state.loadOlderEvents);
  const loadEvents = useAppStore((state) => state.loadEvents);
  const now = useNow(60_000);
  const instrumentFilterId = useId();
  const levelFilterId = useId();
  const searchId = useId();
  const [searchText, setSearchText] = useState(log.filter.search);

  // The gateway is asked once typing pauses, not for every key.
  useEffect(() => {
    if (searchText.trim() === useAppStore.getState().log.filter.search.trim()) return;
    const timer = setTimeout(() => void setLogFilter({ search: searchText }), 250);
    return () => clearTimeout(timer);
  }, [searchText, setLogFilter]);

  // A filter kept from before may name an instrument that has since been removed.
  const knownIds =
    log.filter.instrumentId === null || ids.includes(log.filter.instrumentId)
      ? ids
      : [...ids, log.filter.instrumentId];

  useEffect(() => {
    const { loaded, loading } = useAppStore.getState().log;
    if (!loaded && !loading) void loadEvents();
  }, [loadEvents]);

  return (
    <section className="page" aria-labelledby="events-title">
      <div className="page-head">
        <h1 id="events-title">Event log</h1>
        <p className="page-summary">
          Link changes, protocol errors, alarms and actions, newest first. New events appear at the
          top as they happen.
        </p>
      </div>

      <div className="toolbar" role="group" aria-label="Filter events">
        <label htmlFor={searchId}>Search</label>
        <input
          id={searchId}
          type="search"
          value={searchText}
          placeholder="Words, code or instrument"
          spellCheck={false}
          onChange={(event) => setSearchText(event.target.value)}
        />
        <label htmlFor={instrumentFilterId}>Instrument</label>
        <select
          id={instrumentFilterId}
          value={log.filter.instrumentId ?? ''}
          onChange={(event) => void setLogFilter({ instrumentId: event.target.value || null })}
        >
          <option value="">All instruments</option>
          {knownIds.map((id) => (
            <option key={id} value={id}>
              {names[id] ?? id}
            </option>
          ))}
        </select>
        <label htmlFor={levelFilterId}>Level</label>
        <select
          id={levelFilterId}
          value={log.filter.level ?? ''}
          onChange={(event) =>
            void setLogFilter({ level: (event.target.value || null) as LogLevel | null })
          }
        >
          <option value="">All levels</option>
          <option value="info">Info</option>
          <option value="warn">Problems (recovered or worth a look)</option>
          <option value="error">Failures (something was lost or stopped)</option>
        </select>
        <span className="toolbar-note" role="status">
          {log.loading ? 'Loading…' : `${log.entries.length.toLocaleString('en-US')} shown`}
        </span>
      </div>

      {log.error && (
        <div className="banner banner-bad" role="alert">
          <p>Could not load events: {log.error}</p>
          <button type="button" onClick={() => void loadEvents()}>
            Try again
          </button>
        </div>
      )}

      <div className="table-wrap">
        <table className="log-table">
          <caption className="visually-hidden">Events, newest first</caption>
          <thead>
            <tr>
              <th scope="col" className="col-time">
                Time
              </th>
              <th scope="col" className="col-level">
                Level
              </th>
              <th scope="col" className="col-instrument">
                Instrument
              </th>
              <th scope="col">Event</th>
            </tr>
          </thead>
          <tbody>
            {log.entries.map((entry, index) => (
              <LogRow
                key={entry.id ?? `${entry.at}:${index}`}
                entry={entry}
                instrumentName={
                  entry.instrumentId === null
                    ? '—'
                    : (names[entry.instrumentId] ?? entry.instrumentId)
                }
                now={now}
              />
            ))}
          </tbody>
        </table>
        {log.loaded && log.entries.length === 0 && !log.loading && (
          <p className="empty">No events match these filters.</p>
        )}
      </div>

      <div className="log-more">
        {log.nextCursor !== null && (
          <button type="button" disabled={log.loading} onClick={() => void loadOlderEvents()}>
            Load older events
          </button>
        )}
        {log.trimmed && (
          <p className="muted">
            Only the newest events are kept in this view.{' '}
            <button type="button" className="button-link" onClick={() => void loadEvents()}>
              Start again from the newest
            </button>{' '}
            to page back through older ones.
          </p>
        )}
        {log.loaded && log.nextCursor === null && !log.trimmed && log.entries.length > 0 && (
          <p className="muted">That is all of them.</p>
        )}
      </div>
    </section>
  );
}

function LogRow({
  entry,
  instrumentName,
  now,
}: {
  entry: LogEntryView;
  instrumentName: string;
  now: number;
}) {
  return (
    <tr>
      <td className="mono">{formatTime(entry.at, now)}</td>
      <td>
        <span className={`level level-${entry.level}`}>
          <span className="badge-mark" aria-hidden="true" />
          {levelWords[entry.level]}
        </span>
      </td>
      <td>{instrumentName}</td>
      <td>
        {entry.message}
        {entry.code && <span className="code">{entry.code}</span>}
      </td>
    </tr>
  );
}
