/**
 * Tells a fling from a scroll a person reads along. The grid requests a cell's thumbnail only when the cell is
 * on screen while the grid is not flinging: loading every thumbnail that flies past cost the page ~14 ms a
 * frame (the bench at 240 px a frame ran at 30 fps with 16 % of frames over 50 ms; without those loads, 60 fps).
 */

/** Faster than this (five 800 px screens a second: a dragged scrollbar, a fling, a held Page Down) is a fling. */
export const FLING_PX_PER_S = 4000;
/** After the last fast scroll event, the cells on screen load this much later. */
export const SETTLE_MS = 120;

export class ScrollPace {
  #last: { top: number; at: number } | null = null;

  /** One scroll event: the new position and its time (ms). True while the grid moves at a fling's speed. */
  observe(top: number, at: number): boolean {
    const prev = this.#last;
    this.#last = { top, at };
    if (prev === null) return false;
    return (Math.abs(top - prev.top) * 1000) / Math.max(1, at - prev.at) > FLING_PX_PER_S;
  }
}
