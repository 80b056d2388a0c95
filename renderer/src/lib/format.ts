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

