/** What the Review queue needs to know of a finding, without the page around it. */
import type { Finding, ImageRow, RunInfo } from '../../../shared/contract';
import type { CompareRow, DoubtRow, DoubtsInfo } from '../../../shared/contract-compare';
import { ENSEMBLE_MODEL } from '../../../shared/names';

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

/**
 * What may change of a finding's images: never a submission (unlabelled test) image. It has no label to fix,
 * and excluding it leaves its row out of the Zindi submission. For a duplicate group the keeper stays too.
 */
export function changeableOf(f: Finding, rows: readonly ImageRow[]): ImageRow[] {
  const keeper = isDuplicate(f) ? keeperOf(f, rows) : null;
  return rows.filter((r) => r.split !== 'submission' && r.id !== keeper);
}

/**
 * What the Review queue offers for a finding, besides "keep as is" and "skip". `rows` are the finding's images
 * as the evidence loaded them (empty while they load): a submission image among them takes relabelling away,
 * and exclude stays only while some image it would exclude is not a submission image.
 */
export function actionsFor(f: Finding, classes: readonly string[], rows: readonly ImageRow[] = []): FindingActions {
  if (NO_IMAGE_ACTIONS.has(f.kind) || f.imageIds.length === 0) return { relabel: [], exclude: false, accept: false };
  const own = rows.filter((r) => f.imageIds.includes(r.id));
  const submission = own.some((r) => r.split === 'submission');
  // Every image known (a large group shows only its first ones): then exclude is offered only with work to do.
  const exclude = own.length < f.imageCount || changeableOf(f, own).length > 0;
  if (f.kind === 'label-doubt') {
    // The suggestion is accepted through "accept" (asked twice); a third class, if any, stays one key away.
    const given = f.detail['given'];
    const suggested = f.detail['suggested'];
    return { relabel: submission ? [] : classes.filter((c) => c !== given && c !== suggested), exclude, accept: !submission };
  }
  return { relabel: submission ? [] : classes, exclude, accept: false };
}

/**
 * The run whose Grad-CAM stands for an ensemble's (it averages stored probabilities and has no weights to
 * explain): its member with the best score in the table, else its first; null for a run that is not an ensemble.
 */
export function ensembleExplainer(row: Pick<CompareRow, 'kind' | 'members'>, rows: readonly CompareRow[]): string | null {
  if (row.kind !== 'ensemble') return null;
  const best = rows.filter((r) => row.members.includes(r.id) && r.kind !== 'ensemble').sort((a, b) => (b.auc ?? -1) - (a.auc ?? -1))[0];
  return best?.id ?? row.members[0] ?? null;
}

/** What makes a label doubt's evidence strong enough to put its suggestion forward (see strongDoubt). */
export const STRONG_DOUBT = { precision: 0.8, oofAuc: 0.85, probability: 0.1 } as const;

/**
 * Whether Review puts a label doubt's suggestion forward as the default action (the highlighted button),
 * and why; null when neither "keep" nor "accept" should be: the evidence does not settle it, so the person
 * decides from the image. Strong means all three: the calibration measured at least 4 in 5 doubts at this
 * rank to be real errors, the model is strong out of fold (AUC ≥ 0.85, as the evidence calls it), and it gives
 * the given label p ≤ 0.1. An uncalibrated doubt is never strong: nothing says how often the top ones are
 * right. Accepting still asks first (review.decide('accept')); this only chooses what is highlighted.
 */
export function strongDoubt(doubt: DoubtRow | undefined, info: DoubtsInfo | null): string | null {
  if (!doubt || doubt.expectedPrecision === null || info?.oofAuc == null) return null;
  if (doubt.expectedPrecision < STRONG_DOUBT.precision || info.oofAuc < STRONG_DOUBT.oofAuc || doubt.probability > STRONG_DOUBT.probability) return null;
  return `strong evidence: p(given) = ${doubt.probability.toFixed(3)}, out-of-fold AUC ${info.oofAuc.toFixed(3)}, expected precision ${doubt.expectedPrecision.toFixed(2)} at rank ${doubt.rank}`;
}

/** Confirmation wording for a change to `n` images; null when it touches one image (no question asked). */
export function bulkQuestion(n: number, verb: 'Relabel' | 'Exclude', what: string): { title: string; confirm: string } | null {
  if (n <= 1) return null;
  return { title: `${verb} ${n.toLocaleString('en')} images?`, confirm: `${verb} ${n.toLocaleString('en')} images${what ? ` ${what}` : ''}` };
}

/** The run a doubt's Grad-CAM looks through, and how it relates to the doubts (the evidence says so). */
export interface ExplainRun {
  runId: string;
  /** 'own': the run the doubts were computed from; 'member': the best run of the ensemble they came from; 'best': the library's best run. */
  source: 'own' | 'member' | 'best';
}

/** Grad-CAM looks through a trained run's networks: a finished run that is not an ensemble (a K-fold run's fold that held the image out). */
const explainable = (r: RunInfo): boolean => r.status === 'done' && r.model !== ENSEMBLE_MODEL;

/**
 * The run whose Grad-CAM a label doubt's evidence offers: the run the doubts were computed for (a K-fold
 * run's map is its held-out fold's, the model behind the doubt's probability); for an ensemble's doubts its
 * best member; else the library's best run by validation AUC. Review's "Find label doubts" computes them
 * from a pretrained base's K-fold heads, which no run owns: without this the evidence had no heatmap at
 * all. Null when no run can show one (the button would only say why not).
 */
export function explainRunFor(info: DoubtsInfo | null, runs: readonly RunInfo[]): ExplainRun | null {
  const own = runs.find((r) => r.id === info?.runId);
  if (own && explainable(own)) return { runId: own.id, source: 'own' };
  const bestOf = (list: readonly RunInfo[]): RunInfo | undefined =>
    list.filter((r) => explainable(r) && r.best?.valAuc != null).sort((a, b) => (b.best?.valAuc ?? 0) - (a.best?.valAuc ?? 0))[0];
  const members = own?.config['members'];
  const member = Array.isArray(members) ? bestOf(runs.filter((r) => members.includes(r.id))) : undefined;
  if (member) return { runId: member.id, source: 'member' };
  const best = bestOf(runs);
  return best ? { runId: best.id, source: 'best' } : null;
}
