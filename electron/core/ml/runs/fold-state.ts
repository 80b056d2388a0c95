/**
 * What a run's config says of its folds: K and the folds finished so far. Pure, so the run store (RunInfo),
 * compare, doubts and the K-fold trainer read it without importing each other.
 */

/** K of a K-fold run and its finished folds (0-based), from the run's config JSON; null for a single-split run. */
export interface FoldState {
  k: number;
  finished: number[];
}

export function foldState(config: Record<string, unknown>): FoldState | null {
  const k = config['folds'];
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 2) return null;
  const f = config['foldsFinished'];
  const finished = Array.isArray(f) ? f.filter((x): x is number => typeof x === 'number' && Number.isInteger(x)) : [];
  return { k, finished };
}

/** The folds a K-fold run lacks, 1-based (as people count them). */
export function missingFolds(state: FoldState): number[] {
  return Array.from({ length: state.k }, (_, f) => f).filter((f) => !state.finished.includes(f)).map((f) => f + 1);
}
