/** Progress reporting shared by every long task: a callback, throttled to ~10 calls a second, with an ETA. */

export interface Progress {
  phase: string;
  done: number;
  total: number;
  etaMs: number | null;
  metrics?: Record<string, number>;
}

export type ProgressFn = (p: Progress) => void;

/**
 * Wraps a progress callback: calls it at most every `intervalMs` (always for the first and the last step
 * of a phase) and fills in the ETA from the phase's average pace since its first report. A phase first
 * heard of part-way (its first batch already done) has no pace yet: its ETA is null until the next report,
 * where it read "0s left" (the pace of the first batch over no time).
 */
export function throttledProgress(fn: ProgressFn | undefined, intervalMs = 100): (phase: string, done: number, total: number, metrics?: Record<string, number>) => void {
  if (!fn) return () => {};
  let last = 0;
  let currentPhase = '';
  let phaseStart = 0;
  let doneAtStart = 0;
  return (phase, done, total, metrics) => {
    const now = Date.now();
    if (phase !== currentPhase) {
      currentPhase = phase;
      phaseStart = now;
      doneAtStart = done;
      last = 0;
    }
    const final = done >= total;
    if (!final && now - last < intervalMs) return;
    last = now;
    const elapsed = now - phaseStart;
    const paced = done - doneAtStart;
    const etaMs = final ? 0 : paced > 0 && elapsed > 0 ? Math.round((elapsed / paced) * (total - done)) : null;
    fn({ phase, done, total, etaMs, ...(metrics ? { metrics } : {}) });
  };
}

/**
 * A job of several steps, each with its own count (a bar that restarts, an ETA for that step only): names
 * each phase with its place, 'faces (step 2 of 4)', so the restart and the short ETA read as what they are.
 * A phase not in `steps` passes unchanged.
 */
export function steppedPhases<A extends unknown[]>(
  steps: readonly string[],
  progress: ((phase: string, ...rest: A) => void) | undefined,
): ((phase: string, ...rest: A) => void) | undefined {
  if (!progress) return undefined;
  return (phase, ...rest) => {
    const i = steps.indexOf(phase);
    progress(i < 0 ? phase : `${phase} (step ${i + 1} of ${steps.length})`, ...rest);
  };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const err = new Error('cancelled');
    err.name = 'AbortError';
    throw err;
  }
}
