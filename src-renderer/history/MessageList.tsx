/** The message list: a windowed listbox of the loaded rows, paged in as the user nears the end. */
import {
  useCallback,
  useEffect,
  useMemo,
  useState,
  type CSSProperties,
  type KeyboardEvent,
  type RefObject,
} from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { MessageSummary } from '../../src-shared/status';
import { QcBadge } from './QcBadge';
import { useHistory } from './store-context';
import { WindowedList, type VisibleRows, type WindowedListHandle } from './WindowedList';
import {
  directionWord,
  formatTime,
  listOrDash,
  plural,
  protocolWord,
  statusTone,
  statusWord,
} from './words';

const FORWARDING_WORDS = {
  pending: 'waiting',
  delivered: 'delivered',
  failed: 'failed',
  held: 'held',
} as const;

export const ROW_HEIGHT = 32;
/** Load the next page while this many loaded rows are still below the viewport. */
const NEAR_END_ROWS = 60;

export function messageRowId(listId: string, messageId: number): string {
  return `${listId}-message-${messageId}`;
}

interface MessageListProps {
  id: string;
  /** The app's handle on the list, also used here to keep the selection in view. */
  listRef: RefObject<WindowedListHandle | null>;
  /** Escape in the list with nothing selected goes back to the search box. */
  onLeave(): void;
}

export function MessageList({ id, listRef, onLeave }: MessageListProps) {
  const { items, nextCursor, loading, error, selectedId, generation, instruments, newCount } =
    useHistory(
      useShallow((state) => ({
        items: state.history.items,
        nextCursor: state.history.nextCursor,
        loading: state.history.loading,
        error: state.history.error,
        selectedId: state.history.selectedId,
        generation: state.history.generation,
        instruments: state.history.instruments,
        newCount: state.history.newCount,
      })),
    );
  const { historySelect, historyOpen, historyLoadMore, historyRefresh } = useHistory(
    useShallow((state) => ({
      historySelect: state.historySelect,
      historyOpen: state.historyOpen,
      historyLoadMore: state.historyLoadMore,
      historyRefresh: state.historyRefresh,
    })),
  );

  const names = useMemo(
    () => new Map(instruments.map((instrument) => [instrument.id, instrument.name])),
    [instruments],
  );
  const selectedIndex = useMemo(
    () => (selectedId === null ? -1 : items.findIndex((item) => item.id === selectedId)),
    [items, selectedId],
  );
  const [visible, setVisible] = useState<VisibleRows>({ firstVisible: 0, lastVisible: -1 });
  const onVisibleRowsChange = useCallback((rows: VisibleRows) => setVisible(rows), []);
  const rowKey = useCallback((index: number) => items[index]!.id, [items]);

  useEffect(() => {
    if (nextCursor === null || loading !== 'idle' || error !== null) return;
    if (visible.lastVisible >= items.length - NEAR_END_ROWS) void historyLoadMore();
  }, [visible.lastVisible, items.length, nextCursor, loading, error, historyLoadMore]);

  const moveTo = (index: number) => {
    if (items.length === 0) return;
    const clamped = Math.max(0, Math.min(items.length - 1, index));
    historySelect(items[clamped]!.id);
    listRef.current?.reveal(clamped);
  };

  const page = Math.max(1, visible.lastVisible - visible.firstVisible);
  const onKeyDown = (event: KeyboardEvent) => {
    const keys: Record<string, () => void> = {
      ArrowDown: () => moveTo(selectedIndex < 0 ? visible.firstVisible : selectedIndex + 1),
      ArrowUp: () => moveTo(selectedIndex < 0 ? visible.firstVisible : selectedIndex - 1),
      PageDown: () => moveTo(Math.max(selectedIndex, visible.firstVisible) + page),
      PageUp: () => moveTo(Math.max(selectedIndex, visible.firstVisible) - page),
      Home: () => moveTo(0),
      End: () => moveTo(items.length - 1),
      Enter: () => {
        if (selectedId !== null) void historyOpen(selectedId);
      },
      Escape: () => (selectedId !== null ? historySelect(null) : onLeave()),
    };
    const action = keys[event.key];
    if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    action();
  };

  const renderRow = (index: number, style: CSSProperties) => {
    const item = items[index]!;
    return (
      <MessageRow
        item={item}
        index={index}
        setSize={nextCursor === null ? items.length : -1}
        domId={messageRowId(id, item.id)}
        selected={item.id === selectedId}
        instrumentName={names.get(item.instrumentId) ?? item.instrumentId}
        style={style}
        onOpen={historyOpen}
      />
    );
  };

  return (
    <div className="history-list">
      {newCount > 0 && (
        <div className="history-new">
          <span>{plural(newCount, 'new message')} arrived</span>{' '}
          <button type="button" onClick={() => void historyRefresh()}>
            Show
          </button>
        </div>
      )}
      <div className="history-columns history-row-grid" aria-hidden="true">
        <span>Time</span>
        <span>Instrument</span>
        <span>Protocol</span>
        <span>Dir.</span>
        <span>Sample IDs</span>
        <span>Patient IDs</span>
        <span className="history-number">Results</span>
        <span>Status</span>
        <span className="history-number">Errors</span>
      </div>
      <WindowedList
        id={id}
        ref={listRef}
        className="history-scroller"
        role="listbox"
        aria-label="Messages"
        aria-activedescendant={
          selectedIndex >= 0 && selectedId !== null ? messageRowId(id, selectedId) : undefined
        }
        aria-busy={loading !== 'idle'}
        tabIndex={0}
        onKeyDown={onKeyDown}
        count={items.length}
        rowHeight={ROW_HEIGHT}
        rowKey={rowKey}
        pinnedIndex={selectedIndex >= 0 ? selectedIndex : null}
        resetKey={generation}
        renderRow={renderRow}
        onVisibleRowsChange={onVisibleRowsChange}
      />
      <ListFooter
        count={items.length}
        more={nextCursor !== null}
        loading={loading}
        error={error?.message ?? null}
        onRetry={() => void (items.length === 0 ? historyRefresh() : historyLoadMore())}
      />
    </div>
  );
}

function ListFooter({
  count,
  more,
  loading,
  error,
  onRetry,
}: {
  count: number;
  more: boolean;
  loading: 'idle' | 'first' | 'more';
  error: string | null;
  onRetry(): void;
}) {
  if (error !== null) {
    return (
      <div className="history-footer history-problem" role="alert">
        Could not load messages: {error}{' '}
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  let words: string;
  if (loading === 'first') words = 'Searching…';
  else if (count === 0) words = 'No messages match.';
  else if (more) {
    words = `${plural(count, 'message')} loaded, more available${loading === 'more' ? ' (loading…)' : ''}`;
  } else words = `${plural(count, 'message')}, all loaded`;
  return <p className="history-footer">{words}</p>;
}

interface MessageRowProps {
  item: MessageSummary;
  index: number;
  setSize: number;
  domId: string;
  selected: boolean;
  instrumentName: string;
  style: CSSProperties;
  onOpen(id: number): Promise<void>;
}

function MessageRow({
  item,
  index,
  setSize,
  domId,
  selected,
  instrumentName,
  style,
  onOpen,
}: MessageRowProps) {
  const status = statusWord(item.status);
  const time = formatTime(item.receivedAt);
  const samples = listOrDash(item.sampleIds);
  const patients = listOrDash(item.patientIds);
  const label = [
    time,
    instrumentName,
    protocolWord(item.protocol),
    directionWord(item.direction),
    item.sampleIds.length > 0 ? `sample ${item.sampleIds.join(', ')}` : 'no sample ID',
    item.patientIds.length > 0 ? `patient ${item.patientIds.join(', ')}` : null,
    plural(item.resultCount, 'result'),
    item.qc ? 'quality control' : null,
    status,
    item.forwarding ? `to the LIS: ${FORWARDING_WORDS[item.forwarding]}` : null,
    item.errorCount > 0 ? plural(item.errorCount, 'error') : null,
  ]
    .filter((part) => part !== null)
    .join(', ');
  return (
    <div
      id={domId}
      role="option"
      aria-selected={selected}
      aria-posinset={index + 1}
      aria-setsize={setSize}
      aria-label={label}
      className={`history-row history-row-grid${selected ? ' history-row-selected' : ''}`}
      style={style}
      onClick={() => void onOpen(item.id)}
    >
      <span className="history-time">{time}</span>
      <span className="history-clip" title={instrumentName}>
        {instrumentName}
      </span>
      <span>{protocolWord(item.protocol)}</span>
      <span>
        <span aria-hidden="true">{item.direction === 'in' ? '↓ ' : '↑ '}</span>
        {item.direction === 'in' ? 'In' : 'Out'}
      </span>
      <span className="history-clip history-mono" title={samples}>
        {samples}
      </span>
      <span className="history-clip history-mono" title={patients}>
        {patients}
      </span>
      <span className="history-number">{item.resultCount}</span>
      <span className="history-clip">
        <span className={`history-status history-tone-${statusTone(item.status)}`}>{status}</span>
        {item.qc && <QcBadge />}
        {item.forwarding && (
          <span
            className={`history-forwarding history-forwarding-${item.forwarding}`}
            title={`To the LIS: ${FORWARDING_WORDS[item.forwarding]}`}
          >
            LIS {FORWARDING_WORDS[item.forwarding]}
          </span>
        )}
      </span>
      <span className={`history-number${item.errorCount > 0 ? ' history-has-errors' : ''}`}>
        {item.errorCount}
      </span>
    </div>
  );
}
