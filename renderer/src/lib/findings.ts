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

/**
 * Kinds whose images are not the thing to change: a shortcut names every image of a format (relabelling
 * them all would be wrong), a missing file has no image to label or exclude.
 */
const NO_IMAGE_ACTIONS: ReadonlySet<Finding['kind']> = new Set(['shortcut', 'missing-file']);

export interface FindingActions {
  /** Classes offered for "relabel" (none where relabelling makes no sense). */
  relabel: readonly string[];
  exclude: boolean;
  /** A label doubt's suggestion, accepted deliberately (a confirmation). */
  accept: boolean;
}

/** What the Review queue offers for a finding, besides "keep as is" and "skip". */
export function actionsFor(f: Finding, classes: readonly string[]): FindingActions {
  if (NO_IMAGE_ACTIONS.has(f.kind) || f.imageIds.length === 0) return { relabel: [], exclude: false, accept: false };
  if (f.kind === 'label-doubt') {
    // The suggestion is accepted through "accept" (asked twice); a third class, if any, stays one key away.
    const given = f.detail['given'];
    const suggested = f.detail['suggested'];
    return { relabel: classes.filter((c) => c !== given && c !== suggested), exclude: true, accept: true };
  }
  return { relabel: classes, exclude: true, accept: false };
}

/** Confirmation wording for a change to `n` images; null when it touches one image (no question asked). */
export function bulkQuestion(n: number, verb: 'Relabel' | 'Exclude', what: string): { title: string; confirm: string } | null {
  if (n <= 1) return null;
  return { title: `${verb} ${n.toLocaleString('en')} images?`, confirm: `${verb} ${n.toLocaleString('en')} images${what ? ` ${what}` : ''}` };
}
