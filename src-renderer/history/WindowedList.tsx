/**
 * A fixed-row-height windowed scroller: only the rows in view plus `overscan` on each side are in
 * the DOM, so a list of a million rows costs the same as one of fifty. @tanstack/react-virtual
 * decides which rows those are, scrolls a row into view and, once the list is scrolled, holds the
 * rows being read in place when rows are inserted above them. Lists taller than a browser lets an
 * element be are squeezed for it (see windowing.ts).
 */
import {
  observeElementOffset,
  observeElementRect,
  useVirtualizer,
  defaultRangeExtractor,
  type Range,
  type Rect,
} from '@tanstack/react-virtual';
import {
  Fragment,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useReducer,
  useRef,
  useState,
  type CSSProperties,
  type HTMLAttributes,
  type ReactNode,
  type Ref,
} from 'react';
import { rowTop, squeeze } from './windowing';

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
  const [viewportHeight, setViewportHeight] = useState(FALLBACK_VIEWPORT_HEIGHT);
  const { scale, tail } = squeeze(count, rowHeight, viewportHeight);
  // Rows inserted above (live messages at the top) would push what the user reads downwards;
  // at the very top they should simply appear, so only a scrolled list is held in place.
  const [scrolledDown, setScrolledDown] = useState(false);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  /** What the virtualizer's own observers see, kept to report a new scale to it. */
  const viewport = useRef<{ report(rect: Rect): void; rect: Rect; scale: number } | null>(null);

  // The UI is not built with the React Compiler, which is what this rule protects.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer<HTMLDivElement, Element>({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight * scale,
    getItemKey: rowKey,
    overscan,
    anchorTo: scrolledDown ? 'end' : 'start',
    initialRect: { width: 0, height: FALLBACK_VIEWPORT_HEIGHT * scale },
    rangeExtractor: (range: Range) => withPinned(defaultRangeExtractor(range), pinnedIndex, count),
    observeElementRect: (instance, report) =>
      observeElementRect(instance, (measured) => {
        const rect = { ...measured, height: measured.height || FALLBACK_VIEWPORT_HEIGHT };
        const current = viewport.current?.scale ?? 1;
        viewport.current = { report, rect, scale: current };
        setViewportHeight(rect.height);
        report({ ...rect, height: rect.height * current });
      }),
    observeElementOffset: (instance, report) =>
      observeElementOffset(instance, (offset, isScrolling) => {
        report(offset, isScrolling);
        setScrolledDown(offset > 0);
        // Squeezed rows are placed relative to the viewport, so they move on every scroll, not
        // only when the range of rows changes (the virtualizer's own cue to render).
        if ((viewport.current?.scale ?? 1) !== 1) redraw();
      }),
    // scrollTop, not scrollTo(): the same for the instant scrolls used here, and jsdom has it.
    scrollToFn: (offset, { adjustments = 0 }, instance) => {
      if (instance.scrollElement) instance.scrollElement.scrollTop = offset + adjustments;
    },
  });

  useLayoutEffect(() => {
    const seen = viewport.current;
    if (!seen || seen.scale === scale) return;
    seen.scale = scale;
    seen.report({ ...seen.rect, height: seen.rect.height * scale });
    // Row sizes are read once per layout: lay them out again at the new scale.
    virtualizer.measure();
  }, [scale, virtualizer]);

  const [shownResetKey, setShownResetKey] = useState(resetKey);
  if (shownResetKey !== resetKey) {
    setShownResetKey(resetKey);
    setScrolledDown(false);
  }
  useLayoutEffect(() => {
    virtualizer.scrollToOffset(0);
  }, [resetKey, virtualizer]);

  useImperativeHandle(
    ref,
    () => ({
      reveal(index) {
        virtualizer.scrollToIndex(index, { align: 'auto' });
      },
      focus() {
        scroller.current?.focus();
      },
    }),
    [virtualizer],
  );

  const items = virtualizer.getVirtualItems();
  const firstVisible = virtualizer.range?.startIndex ?? 0;
  const lastVisible = virtualizer.range?.endIndex ?? -1;
  useEffect(() => {
    onVisibleRowsChange?.({ firstVisible, lastVisible });
  }, [firstVisible, lastVisible, onVisibleRowsChange]);

  const scrollTop = virtualizer.scrollOffset ?? 0;
  const rows = items.map((item) => (
    <Fragment key={item.key}>
      {renderRow(item.index, {
        position: 'absolute',
        top: rowTop(item.index, rowHeight, scale, scrollTop),
        left: 0,
        right: 0,
        height: rowHeight,
      })}
    </Fragment>
  ));
  return (
    <div
      {...scrollerProps}
      ref={scroller}
      className={className ? `windowed-list ${className}` : 'windowed-list'}
    >
      <div
        role="presentation"
        className="windowed-list-content"
        style={{ position: 'relative', height: virtualizer.getTotalSize() + tail }}
      >
        {scale === 1 ? (
          rows
        ) : (
          <div
            role="presentation"
            style={{ position: 'sticky', top: 0, height: viewportHeight, overflow: 'hidden' }}
          >
            {rows}
          </div>
        )}
      </div>
    </div>
  );
}

/** The rows in range, with the pinned one added in order when it is outside. */
function withPinned(indices: number[], pinned: number | null, count: number): number[] {
  if (pinned === null || pinned < 0 || pinned >= count || indices.includes(pinned)) return indices;
  return [...indices, pinned].sort((a, b) => a - b);
}
