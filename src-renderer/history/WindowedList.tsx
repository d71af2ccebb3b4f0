/**
 * A fixed-row-height windowed scroller: only the rows in view plus `overscan` on each side are in
 * the DOM, so a list of a million rows costs the same as one of fifty. Kept self-contained so a
 * library (e.g. @tanstack/react-virtual) can replace it behind the same props.
 */
import {
  Fragment,
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type CSSProperties,
  type HTMLAttributes,
  type ReactNode,
  type Ref,
} from 'react';
import {
  offsetForScrollTop,
  rowTop,
  rowWindow,
  scrollHeight,
  scrollTopForOffset,
  scrollTopToReveal,
  type WindowGeometry,
} from './windowing';

export interface WindowedListHandle {
  /** Scrolls the least needed to show a row whole. */
  reveal(index: number): void;
  focus(): void;
}

export interface VisibleRows {
  firstVisible: number;
  lastVisible: number;
}

/** Used until the scroller has been measured, and where layout is not available. */
const FALLBACK_VIEWPORT_HEIGHT = 480;

interface WindowedListProps extends Omit<HTMLAttributes<HTMLDivElement>, 'children' | 'onScroll'> {
  count: number;
  rowHeight: number;
  overscan?: number;
  renderRow(index: number, style: CSSProperties): ReactNode;
  /** Identity of a row: rows inserted above the viewport then leave the rows in view in place. */
  rowKey(index: number): string | number;
  /** A row kept in the DOM even when scrolled away, e.g. the one aria-activedescendant names. */
  pinnedIndex?: number | null;
  /** A new value scrolls back to the top (a new query). */
  resetKey?: unknown;
  onVisibleRowsChange?(rows: VisibleRows): void;
  ref?: Ref<WindowedListHandle>;
}

export function WindowedList({
  count,
  rowHeight,
  overscan = 8,
  renderRow,
  rowKey,
  pinnedIndex = null,
  resetKey,
  onVisibleRowsChange,
  ref,
  className,
  ...scrollerProps
}: WindowedListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewportHeight, setViewportHeight] = useState(FALLBACK_VIEWPORT_HEIGHT);
  const geometry: WindowGeometry = useMemo(
    () => ({ count, rowHeight, viewportHeight }),
    [count, rowHeight, viewportHeight],
  );
  const rows = rowWindow(geometry, scrollTop, overscan);

  /** The first row on screen and how far into it the viewport starts, to hold it in place. */
  const anchor = useRef<{ key: string | number; index: number; within: number } | null>(null);
  const previousCount = useRef(count);

  const scrollTo = useCallback((top: number) => {
    const element = scroller.current;
    if (element) element.scrollTop = top;
    setScrollTop(top);
  }, []);

  const noteAnchor = useCallback(
    (top: number) => {
      if (count === 0) {
        anchor.current = null;
        return;
      }
      const offset = offsetForScrollTop(geometry, top);
      const index = Math.min(count - 1, Math.floor(offset / rowHeight));
      anchor.current = { key: rowKey(index), index, within: offset - index * rowHeight };
    },
    [count, geometry, rowHeight, rowKey],
  );

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const measure = () => setViewportHeight(element.clientHeight || FALLBACK_VIEWPORT_HEIGHT);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const [shownResetKey, setShownResetKey] = useState(resetKey);
  if (shownResetKey !== resetKey) {
    setShownResetKey(resetKey);
    setScrollTop(0);
  }
  useLayoutEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    anchor.current = null;
  }, [resetKey]);

  // Rows inserted above (live messages at the top) would push what the user reads downwards;
  // at the very top they should simply appear, so only a scrolled list is held in place.
  useLayoutEffect(() => {
    const grown = count - previousCount.current;
    previousCount.current = count;
    const held = anchor.current;
    const element = scroller.current;
    if (!held || !element || element.scrollTop <= 0 || grown <= 0) return;
    const last = Math.min(count - 1, held.index + grown);
    for (let index = held.index; index <= last; index++) {
      if (rowKey(index) !== held.key) continue;
      if (index !== held.index) {
        const top = scrollTopForOffset(geometry, index * rowHeight + held.within);
        anchor.current = { ...held, index };
        scrollTo(top);
      }
      return;
    }
  }, [count, geometry, rowHeight, rowKey, scrollTo]);

  useImperativeHandle(
    ref,
    () => ({
      reveal(index) {
        const element = scroller.current;
        const top = scrollTopToReveal(geometry, element?.scrollTop ?? scrollTop, index);
        if (top === null) return;
        scrollTo(top);
        noteAnchor(top);
      },
      focus() {
        scroller.current?.focus();
      },
    }),
    [geometry, noteAnchor, scrollTo, scrollTop],
  );

  const { firstVisible, lastVisible } = rows;
  useEffect(() => {
    onVisibleRowsChange?.({ firstVisible, lastVisible });
  }, [firstVisible, lastVisible, onVisibleRowsChange]);

  const indices: number[] = [];
  if (pinnedIndex !== null && pinnedIndex >= 0 && pinnedIndex < rows.start) {
    indices.push(pinnedIndex);
  }
  for (let index = rows.start; index < rows.end; index++) indices.push(index);
  if (pinnedIndex !== null && pinnedIndex >= rows.end && pinnedIndex < count) {
    indices.push(pinnedIndex);
  }

  return (
    <div
      {...scrollerProps}
      ref={scroller}
      className={className ? `windowed-list ${className}` : 'windowed-list'}
      onScroll={(event) => {
        const top = event.currentTarget.scrollTop;
        setScrollTop(top);
        noteAnchor(top);
      }}
    >
      <div
        role="presentation"
        className="windowed-list-content"
        style={{ position: 'relative', overflow: 'hidden', height: scrollHeight(geometry) }}
      >
        {indices.map((index) => (
          <Fragment key={rowKey(index)}>
            {renderRow(index, {
              position: 'absolute',
              top: rowTop(geometry, scrollTop, index),
              left: 0,
              right: 0,
              height: rowHeight,
            })}
          </Fragment>
        ))}
      </div>
    </div>
  );
}
