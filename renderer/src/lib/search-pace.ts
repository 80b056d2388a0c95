/**
 * When the name search runs. The first key after a quiet moment (a paste, one character) asks at once; keys that
 * follow it within BURST_MS are a word being typed, and only the last of them asks, SEARCH_WAIT_MS after it.
 * A query takes 5–40 ms on 100,000 images (the list-order index covers the name), so a word costs one or two
 * queries, and the answer to a single change is not delayed at all (a flat 120 ms wait made a search of
 * 100,000 images answer in ~260 ms).
 */
export const SEARCH_WAIT_MS = 80;
export const BURST_MS = 300;

export class SearchPace {
  #lastKey = -Infinity;

  /** A change of the search box at `at` (ms): run the search now, or after SEARCH_WAIT_MS unless another key comes. */
  input(at: number): 'now' | 'later' {
    const inBurst = at - this.#lastKey < BURST_MS;
    this.#lastKey = at;
    return inBurst ? 'later' : 'now';
  }
}
