/** What the Review queue needs to know of a finding, without the page around it. */
import type { Finding, ImageRow } from '../../../shared/contract';

export function isDuplicate(f: Finding): boolean {
  return f.kind === 'exact-duplicate' || f.kind === 'near-duplicate';
}

/** The keeper the audit suggests for a duplicate group (the largest image), as an image id. */
export function keeperOf(f: Finding, images: readonly ImageRow[]): number | null {
  const name = f.detail['suggestedKeeper'];
  if (typeof name === 'string') {
    const match = images.find((i) => i.relPath === name);
    if (match) return match.id;
  }
  const largest = [...images].sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0) || b.bytes - a.bytes)[0];
  return largest?.id ?? null;
}
