/**
 * The History page: search and filters, the windowed message list, and the detail pane.
 *
 * It works on whichever store it is given, as long as the store holds a `HistorySlice`: the app
 * passes its one store (`<HistoryView store={useAppStore} />`), tests a store of the slice alone.
 */
import { useEffect, useId, useRef } from 'react';
import type { StoreApi } from 'zustand';
import type { HistorySlice } from '../store/history-slice';
import { MessageDetailPane } from './detail/MessageDetailPane';
import { HistoryToolbar } from './HistoryToolbar';
import { MessageList } from './MessageList';
import { HistoryStoreProvider } from './store-context';
import type { WindowedListHandle } from './WindowedList';
import './history.css';

export function HistoryView({ store }: { store: StoreApi<HistorySlice> }) {
  useEffect(() => {
    const { history, historyRefresh, historyLoadInstruments } = store.getState();
    if (history.generation === 0) void historyRefresh();
    if (history.instruments.length === 0) void historyLoadInstruments();
  }, [store]);

  return (
    <HistoryStoreProvider store={store}>
      <HistoryPage />
    </HistoryStoreProvider>
  );
}

function HistoryPage() {
  const search = useRef<HTMLInputElement>(null);
  const list = useRef<WindowedListHandle>(null);
  const listId = useId();

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.defaultPrevented || isTypingTarget(event.target)) return;
      event.preventDefault();
      search.current?.focus();
      search.current?.select();
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);

  return (
    <section className="history" aria-label="Message history">
      <HistoryToolbar searchRef={search} onLeaveSearch={() => list.current?.focus()} />
      <div className="history-body">
        <MessageList
          id={`${listId}messages`}
          listRef={list}
          onLeave={() => search.current?.focus()}
        />
        <MessageDetailPane />
      </div>
    </section>
  );
}

/** Where `/` is a character the user is typing, not a shortcut. */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color'].includes(
    target.type,
  );
}
