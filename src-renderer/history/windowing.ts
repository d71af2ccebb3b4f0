/**
 * The arithmetic of a fixed-row-height windowed list. Browsers cap an element's height (Firefox
 * near 17.9 million px, Chromium near 33.5 million), so past `maxScrollHeight` the scrollbar is
 * compressed: scroll positions map linearly onto content offsets and rows are placed relative to
 * the viewport. Below the cap the mapping is the identity.
 */

export interface WindowGeometry {
  count: number;
  rowHeight: number;
  viewportHeight: number;
  /** Tallest scroll area to create; a bit under the smallest browser cap. */
  maxScrollHeight?: number;
}

export interface RowWindow {
  /** First row to render (inclusive). */
  start: number;
  /** Last row to render (exclusive). */
  end: number;
  /** First and last rows actually on screen, without overscan. */
  firstVisible: number;
  lastVisible: number;
  /** Content offset (px) of the top of the viewport. */
  offset: number;
}

export const DEFAULT_MAX_SCROLL_HEIGHT = 15_000_000;

export function contentHeight(g: WindowGeometry): number {
  return g.count * g.rowHeight;
}

/** Height of the scrollable area: the content's, or the cap. */
export function scrollHeight(g: WindowGeometry): number {
  return Math.min(contentHeight(g), g.maxScrollHeight ?? DEFAULT_MAX_SCROLL_HEIGHT);
}

function travel(g: WindowGeometry): { content: number; scroll: number } {
  return {
    content: Math.max(0, contentHeight(g) - g.viewportHeight),
    scroll: Math.max(0, scrollHeight(g) - g.viewportHeight),
  };
}

/** Content offset shown at the top of the viewport for a scroll position. */
export function offsetForScrollTop(g: WindowGeometry, scrollTop: number): number {
  const { content, scroll } = travel(g);
  const top = Math.min(Math.max(0, scrollTop), scroll);
  if (scroll === 0 || content === scroll) return top;
  return (top / scroll) * content;
}

/** Scroll position that shows a content offset at the top of the viewport. */
export function scrollTopForOffset(g: WindowGeometry, offset: number): number {
  const { content, scroll } = travel(g);
  const clamped = Math.min(Math.max(0, offset), content);
  if (content === 0 || content === scroll) return clamped;
  return (clamped / content) * scroll;
}

/** Where a row goes inside the scroll area, given the current scroll position. */
export function rowTop(g: WindowGeometry, scrollTop: number, index: number): number {
  return index * g.rowHeight - offsetForScrollTop(g, scrollTop) + clampScrollTop(g, scrollTop);
}

export function clampScrollTop(g: WindowGeometry, scrollTop: number): number {
  return Math.min(Math.max(0, scrollTop), travel(g).scroll);
}

export function rowWindow(g: WindowGeometry, scrollTop: number, overscan: number): RowWindow {
  const offset = offsetForScrollTop(g, scrollTop);
  if (g.count === 0 || g.rowHeight <= 0) {
    return { start: 0, end: 0, firstVisible: 0, lastVisible: -1, offset };
  }
  const firstVisible = Math.min(g.count - 1, Math.floor(offset / g.rowHeight));
  const lastVisible = Math.min(
    g.count - 1,
    Math.max(firstVisible, Math.ceil((offset + g.viewportHeight) / g.rowHeight) - 1),
  );
  return {
    start: Math.max(0, firstVisible - overscan),
    end: Math.min(g.count, lastVisible + 1 + overscan),
    firstVisible,
    lastVisible,
    offset,
  };
}

/**
 * The scroll position that brings a row fully into view with the least movement, or null when
 * it is already fully visible.
 */
export function scrollTopToReveal(
  g: WindowGeometry,
  scrollTop: number,
  index: number,
): number | null {
  const offset = offsetForScrollTop(g, scrollTop);
  const top = index * g.rowHeight;
  const bottom = top + g.rowHeight;
  if (top < offset) return scrollTopForOffset(g, top);
  if (bottom > offset + g.viewportHeight) {
    return scrollTopForOffset(g, bottom - g.viewportHeight);
  }
  return null;
}
