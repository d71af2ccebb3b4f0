/**
 * How a list taller than a browser lets an element be is still scrolled to its last row.
 *
 * Browsers cap an element's height: Chromium at 33,554,428 px (1,048,575 rows of 32 px), Firefox
 * near 17.9 million. The virtualizer lays rows end to end in the scroll area, so past
 * `MAX_SCROLL_HEIGHT` it is given every row squeezed by the same `scale`: the scroll area stays
 * under the cap and a scroll position still maps linearly onto the rows. Only the placing of the
 * rows on screen, at their full height in a layer held on the viewport, is ours: the layer does
 * not depend on where the browser really put the scroll position, which Chromium rounds to 2 px
 * past 8 million. Below the cap nothing is squeezed and the rows sit where the virtualizer puts
 * them.
 */

/** Tallest scroll area to create: under the smallest browser cap. */
export const MAX_SCROLL_HEIGHT = 15_000_000;

export interface Squeeze {
  /** Factor applied to row and viewport heights in the virtualizer's coordinates; 1 below the cap. */
  scale: number;
  /**
   * Space added below the squeezed rows. The viewport keeps its real height in the scroll area,
   * so without it the last rows could never reach the top of the squeezed viewport.
   */
  tail: number;
}

export function squeeze(
  count: number,
  rowHeight: number,
  viewportHeight: number,
  maxScrollHeight = MAX_SCROLL_HEIGHT,
): Squeeze {
  const content = count * rowHeight;
  if (content <= maxScrollHeight || content <= viewportHeight) return { scale: 1, tail: 0 };
  // Scroll travel over content travel: the bottom of the scroll area shows the last row.
  const scale = (maxScrollHeight - viewportHeight) / (content - viewportHeight);
  return { scale, tail: viewportHeight * (1 - scale) };
}

/**
 * Where a row's top goes: in the scroll area when nothing is squeezed; otherwise in a layer that
 * stays on the viewport, at the row's distance from the content offset the scroll position shows.
 */
export function rowTop(index: number, rowHeight: number, scale: number, scrollTop: number): number {
  if (scale === 1) return index * rowHeight;
  return index * rowHeight - scrollTop / scale;
}
