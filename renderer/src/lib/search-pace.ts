/**
 * When the name search runs. The first key after a quiet moment (one character) asks at once; keys that
 * follow it within BURST_MS are a word being typed, and only the last of them asks, SEARCH_WAIT_MS after it.
 * A change that is not one key (a paste, the box cleared, an autocompletion) is a whole query: it asks at
 * once, whenever it comes. A query takes 5–40 ms on 100,000 images (the list-order index covers the name),
 * so a word costs one or two queries, and the answer to a single change is not delayed at all (a flat
 * 120 ms wait made a search of 100,000 images answer in ~260 ms).
 */
export const SEARCH_WAIT_MS = 80;
export const BURST_MS = 300;

/** Whether `after` is `before` with one character typed, deleted or replaced (one key's edit). */
export function oneKeyEdit(before: string, after: string): boolean {
  const [short, long] = before.length <= after.length ? [before, after] : [after, before];
  if (long.length - short.length > 1 || long === short) return false;
  let p = 0;
  while (p < short.length && short[p] === long[p]) p++;
  const skip = long.length === short.length ? 1 : 0;
  return long.slice(p + 1) === short.slice(p + skip);
}

export class SearchPace {
  #lastKey = -Infinity;
  #value = '';

  constructor(initial = '') {
    this.#value = initial;
  }

  /** The search box now holds `value` (changed at `at` ms): run the search now, or after SEARCH_WAIT_MS unless another key comes. */
  input(at: number, value: string): 'now' | 'later' {
    const typed = oneKeyEdit(this.#value, value);
    const inBurst = at - this.#lastKey < BURST_MS;
    this.#lastKey = at;
    this.#value = value;
    return typed && inBurst ? 'later' : 'now';
  }
}
