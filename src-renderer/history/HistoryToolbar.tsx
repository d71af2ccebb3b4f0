/** Search box, filters and export for the history. */
import { useEffect, useId, useState, type ChangeEvent, type Ref } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { ExportFormat } from '../store/history-slice';
import type { HistoryFilters, SortOrder, TimeRange } from './query';
import { TIME_RANGES, timeBounds } from './query';
import { getDisplayZone } from '../display-zone';
import { localTimeZone } from '../../src-shared/time-zone';
import { useHistory } from './store-context';
import { KNOWN_STATUSES, statusWord } from './words';

/** Long enough to skip the keystrokes of a sample ID typed in one go. */
export const SEARCH_DEBOUNCE_MS = 250;

const EXPORT_FORMATS: { value: ExportFormat; label: string }[] = [
  { value: 'csv', label: 'CSV of results' },
  { value: 'json', label: 'JSON' },
  { value: 'raw', label: 'Raw bytes' },
];

interface HistoryToolbarProps {
  searchRef: Ref<HTMLInputElement>;
  /** Escape in the search box moves on to the list. */
  onLeaveSearch(): void;
}

export function HistoryToolbar({ searchRef, onLeaveSearch }: HistoryToolbarProps) {
  const { searchText, filters, instruments } = useHistory(
    useShallow((state) => ({
      searchText: state.history.searchText,
      filters: state.history.filters,
      instruments: state.history.instruments,
    })),
  );
  const { historySetSearchText, historySetFilters } = useHistory(
    useShallow((state) => ({
      historySetSearchText: state.historySetSearchText,
      historySetFilters: state.historySetFilters,
    })),
  );
  const ids = useId();

  const pending = searchText.trim() !== filters.search.trim();
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(() => historySetFilters({ search: searchText }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [pending, searchText, historySetFilters]);

  const instrumentChoices =
    filters.instrumentId === null || instruments.some((i) => i.id === filters.instrumentId)
      ? instruments
      : [...instruments, { id: filters.instrumentId, name: filters.instrumentId }];

  const choose =
    <K extends keyof HistoryFilters>(key: K, parse: (value: string) => HistoryFilters[K]) =>
    (event: ChangeEvent<HTMLSelectElement>) =>
      historySetFilters({ [key]: parse(event.target.value) } as Partial<HistoryFilters>);
  const orNull = (value: string) => (value === '' ? null : value);

  return (
    <div className="history-toolbar">
      <div className="history-filters">
        <input
          ref={searchRef}
          type="search"
          className="history-search"
          aria-label="Search messages"
          aria-describedby={`${ids}-search-hint`}
          placeholder="Sample ID, patient ID, test code or text"
          value={searchText}
          spellCheck={false}
          autoComplete="off"
          onChange={(event) => historySetSearchText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && pending) {
              event.preventDefault();
              historySetFilters({ search: searchText });
            } else if (event.key === 'Escape') {
              event.preventDefault();
              onLeaveSearch();
            }
          }}
        />
        <label className="history-filter">
          Instrument
          <select value={filters.instrumentId ?? ''} onChange={choose('instrumentId', orNull)}>
            <option value="">All instruments</option>
            {instrumentChoices.map((instrument) => (
              <option key={instrument.id} value={instrument.id}>
                {instrument.name}
              </option>
            ))}
          </select>
        </label>
        <label className="history-filter">
          Protocol
          <select
            value={filters.protocol ?? ''}
            onChange={choose('protocol', (value) =>
              value === 'astm' || value === 'hl7' ? value : null,
            )}
          >
            <option value="">All protocols</option>
            <option value="astm">ASTM</option>
            <option value="hl7">HL7</option>
          </select>
        </label>
        <label className="history-filter">
          Direction
          <select
            value={filters.direction ?? ''}
            onChange={choose('direction', (value) =>
              value === 'in' || value === 'out' ? value : null,
            )}
          >
            <option value="">Both directions</option>
            <option value="in">Received</option>
            <option value="out">Sent</option>
          </select>
        </label>
        <label className="history-filter">
          Status
          <select value={filters.status ?? ''} onChange={choose('status', orNull)}>
            <option value="">Any status</option>
            {KNOWN_STATUSES.map((status) => (
              <option key={status} value={status}>
                {statusWord(status)}
              </option>
            ))}
          </select>
        </label>
        <label className="history-filter">
          Results
          <select
            value={filters.qc === null ? '' : filters.qc ? 'qc' : 'patient'}
            onChange={choose('qc', (value) => (value === '' ? null : value === 'qc'))}
          >
            <option value="">All results</option>
            <option value="qc">QC and calibration</option>
            <option value="patient">Patient results</option>
          </select>
        </label>
        <label className="history-filter">
          To the LIS
          <select
            value={filters.forwarding ?? ''}
            onChange={choose('forwarding', (value) =>
              value === '' ? null : (value as 'pending' | 'delivered' | 'failed' | 'held'),
            )}
          >
            <option value="">Any</option>
            <option value="failed">Failed</option>
            <option value="pending">Waiting</option>
            <option value="held">Held</option>
            <option value="delivered">Delivered</option>
          </select>
        </label>
        <label className="history-filter">
          Time
          <select value={filters.range} onChange={choose('range', (value) => value as TimeRange)}>
            {TIME_RANGES.map((range) => (
              <option key={range.value} value={range.value}>
                {range.label}
              </option>
            ))}
          </select>
        </label>
        <label className="history-filter">
          Order
          <select value={filters.order} onChange={choose('order', (value) => value as SortOrder)}>
            <option value="desc">Newest first</option>
            <option value="asc">Oldest first</option>
          </select>
        </label>
      </div>
      <div className="history-subbar">
        {filters.range === 'custom' && <CustomRange />}
        <span id={`${ids}-search-hint`} className="history-hint">
          Press / to search, arrows to move, Enter to open
        </span>
        <ExportControl />
      </div>
    </div>
  );
}

/** From and to, each a date and a time of day in the gateway's zone; either may stay open. */
function CustomRange() {
  const { customFrom, customTo } = useHistory(
    useShallow((state) => ({
      customFrom: state.history.filters.customFrom,
      customTo: state.history.filters.customTo,
    })),
  );
  const historySetFilters = useHistory((state) => state.historySetFilters);
  const timeZone = getDisplayZone() ?? localTimeZone();
  const ids = useId();
  // A custom range does not depend on the time now.
  const { problem } = timeBounds({ range: 'custom', customFrom, customTo }, 0, timeZone);
  return (
    <div
      className="history-custom-range"
      role="group"
      aria-label="Custom time range"
      aria-describedby={`${ids}-zone`}
    >
      <label className="history-filter">
        From
        <input
          type="datetime-local"
          value={customFrom}
          max={customTo || undefined}
          aria-invalid={problem ? true : undefined}
          onChange={(event) => historySetFilters({ customFrom: event.target.value })}
        />
      </label>
      <label className="history-filter">
        To
        <input
          type="datetime-local"
          value={customTo}
          min={customFrom || undefined}
          aria-invalid={problem ? true : undefined}
          onChange={(event) => historySetFilters({ customTo: event.target.value })}
        />
      </label>
      <span id={`${ids}-zone`} className="history-hint">
        {problem ?? `In the gateway’s time, ${timeZone}; “To” includes its whole minute`}
      </span>
    </div>
  );
}

function ExportControl() {
  const { exporting, note, searchText, appliedSearch } = useHistory(
    useShallow((state) => ({
      exporting: state.history.exporting,
      note: state.history.exportNote,
      searchText: state.history.searchText,
      appliedSearch: state.history.filters.search,
    })),
  );
  const { historyExport, historySetFilters } = useHistory(
    useShallow((state) => ({
      historyExport: state.historyExport,
      historySetFilters: state.historySetFilters,
    })),
  );
  const [format, setFormat] = useState<ExportFormat>('csv');

  const run = () => {
    // What the box shows is what the user means, even inside the typing pause.
    if (searchText.trim() !== appliedSearch.trim()) historySetFilters({ search: searchText });
    void historyExport(format);
  };

  return (
    <div className="history-export" role="group" aria-label="Export">
      <label className="history-filter">
        Export as
        <select value={format} onChange={(event) => setFormat(event.target.value as ExportFormat)}>
          {EXPORT_FORMATS.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </label>
      <button type="button" disabled={exporting} onClick={run}>
        {exporting ? 'Exporting…' : 'Export'}
      </button>
      <span className={note?.kind === 'failed' ? 'history-problem' : 'history-note'} role="status">
        {note?.text ?? ''}
      </span>
    </div>
  );
}
