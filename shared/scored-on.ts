/** What a comparison row's score rests on, in words: the CLI's compare table and the Compare view say the same. */
import type { CompareRow, DoubtsInfo } from './contract-compare';
import { ENSEMBLE_MODEL } from './names';
import type { RunInfo } from './contract-train';
import { ttaModeText } from './tta-text';

/** 'single split', 'K-fold' (out of fold on val, the folds' mean on test; missing folds named) or 'ensemble'. */
export function scoredOn(r: Pick<CompareRow, 'kind' | 'folds' | 'missingFolds'>): string {
  if (r.kind === 'ensemble') return 'ensemble';
  if (r.folds === null) return 'single split';
  const missing = r.missingFolds.length > 0 ? `, ${missingFoldsText(r.missingFolds, r.folds)}` : '';
  return `${r.folds}-fold${missing}`;
}

/**
 * How many images every row's score rests on, or null when the rows rest on different numbers (a K-fold run
 * out of fold beside single-split runs): Compare's footer and the CLI's compare header decide it here.
 */
export function commonImageCount(rows: ReadonlyArray<Pick<CompareRow, 'count'>>): number | null {
  const counts = new Set(rows.map((r) => r.count));
  return counts.size <= 1 ? (rows[0]?.count ?? 0) : null;
}

/** 'fold 5 of 5 missing', 'folds 2, 3 of 3 missing': a K-fold run's unfinished folds (numbered from 1), in words. */
export function missingFoldsText(missing: readonly number[], k: number): string {
  return `${missing.length === 1 ? 'fold' : 'folds'} ${missing.join(', ')} of ${k} missing`;
}

/** The test-time augmentation a row's probabilities were averaged over, in words (CLI and Compare view alike). */
export function ttaText(r: Pick<CompareRow, 'tta' | 'faces'>): string {
  return `${ttaModeText(r.tta)}${r.faces ? ', faces' : ''}`;
}

/**
 * What trained a run, in a word, for the runs tables (CLI and Train view): 'onnx' for ONNX Runtime's
 * training graph (the tfjs backend then only read and wrote the checkpoint), else the TensorFlow.js backend.
 */
export function trainedOn(r: Pick<RunInfo, 'engine' | 'backend' | 'model'>): string {
  // an ensemble trains nothing: it averages its runs' stored probabilities
  if (r.model === ENSEMBLE_MODEL) return '–';
  return r.engine === 'onnx' ? 'onnx' : r.backend;
}

/** How label doubts' probabilities were made, for a caption (Review's evidence and the report alike). */
export function doubtsModelText(i: Pick<DoubtsInfo, 'weights' | 'inputSize' | 'folds'>): string {
  return i.weights === ENSEMBLE_MODEL ? `the mean of their ${i.folds}-fold unseen probabilities` : `${i.weights} weights, ${i.inputSize} px, ${i.folds}-fold`;
}
