/** Numbers as a person reads them (bytes and counts: shared/format.ts, which the core's messages use too). */
export { formatBytes, plural } from '../../../shared/format';

export function formatEta(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s left`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${String(s % 60).padStart(2, '0')} s left` : `${Math.floor(m / 60)} h ${m % 60} min left`;
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.max(0, (100 * done) / total)) : 0;
}


/**
 * Precision and recall at the 0.5 threshold, and what a pair of zeros means: no image scored above 0.5 as the
 * positive class (a scratch run of 2 epochs on Spot the Mask: AUC 0.63, every probability under 0.5). Precision
 * is then 0 by scikit-learn's convention, which reads as "always wrong"; the note says what happened instead.
 */
export function precisionRecall(precision: number, recall: number): { text: string; note: string | null } {
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  return { text: `${pct(precision)} / ${pct(recall)}`, note: recall === 0 ? 'no positive found at 0.5' : null };
}
