/** Numbers as a person reads them (bytes and counts: shared/format.ts, which the core's messages use too). */
export { formatBytes, plural } from '../../../shared/format';

export function formatEta(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '';
  return `${formatDuration(ms / 1000)} left`;
}

/** '42 s', '18 min 33 s', '3 h 38 min'. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${String(s % 60).padStart(2, '0')} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A test's p-value as the tables print it. */
export function pValue(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`;
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

/**
 * A run's training speed as the tables show it. A frozen transfer run's figure counts cached base features
 * through the head ('features' basis): thousands a second, which beside a scratch run's images a second
 * would read as the faster network. It says so, and `title` says why.
 */
export function throughput(imagesPerSecond: number | null, basis: 'pixels' | 'features' | null): { text: string; title: string } {
  if (imagesPerSecond === null) return { text: '–', title: 'not measured (the run did not finish)' };
  const n = Math.round(imagesPerSecond).toLocaleString('en');
  if (basis === 'features') {
    return { text: `${n} img/s, head only`, title: 'images a second through the new head, on base features computed once per image beforehand: not comparable with a whole network\'s img/s' };
  }
  return { text: `${n} img/s`, title: 'images a second through the whole network while training' };
}
