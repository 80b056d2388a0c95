/**
 * The Compare view's "Score on another folder…" as pure decisions (tested without a page): which runs the
 * dialog ticks first, the form turned into evaluate.start's input (or what is still missing, in words), the
 * job's result recognised, and the run's own score beside the one on the folder.
 */
import type { CompareRow } from '../../../shared/contract-compare';
import type { MethodInput } from '../../../shared/contract';
import type { EvaluateResult, EvaluateRun } from '../../../shared/contract-evaluate';
import type { TtaMode } from '../../../shared/names';

/** What the dialog holds: text fields as typed, '' for "the run's own" choices. */
export interface EvaluateForm {
  folder: string;
  runs: readonly string[];
  /** The subfolder for the library's first and second class ('' while not chosen). */
  classes: readonly [string, string];
  perClass: string;
  seed: string;
  tta: TtaMode | '';
  faces: '' | 'on' | 'off';
}

/**
 * The runs ticked when the dialog opens: the selected runs in the table's order (an ensemble scores with its
 * members' mean); none selected: the best run.
 */
export function defaultRuns(rows: readonly CompareRow[], selected: readonly string[]): string[] {
  const picked = rows.filter((r) => selected.includes(r.id)).map((r) => r.id);
  if (picked.length > 0) return picked;
  return rows.slice(0, 1).map((r) => r.id);
}

/** A whole number ≥ 1 as typed, '' for none; NaN when it is something else. */
function count(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  return /^\d+$/.test(t) ? Number(t) : Number.NaN;
}

/** evaluate.start's input from the form, or the one thing still missing, said as the dialog says it. */
export function evaluateInput(form: EvaluateForm): { input: MethodInput<'evaluate.start'> } | { problem: string } {
  const folder = form.folder.trim();
  if (folder === '') return { problem: 'name the labelled folder (one subfolder per class)' };
  if (form.runs.length === 0) return { problem: 'tick at least one run to score' };
  const [a, b] = form.classes;
  if (a === '' || b === '') return { problem: 'choose the subfolder that stands for each class' };
  if (a === b) return { problem: `'${a}' cannot stand for both classes: choose another subfolder for one of them` };
  const perClass = count(form.perClass);
  if (perClass !== null && !(perClass >= 1)) return { problem: `images per class: '${form.perClass.trim()}' is not a whole number of at least 1 (leave it empty for every image)` };
  const seed = count(form.seed);
  if (seed !== null && Number.isNaN(seed)) return { problem: `seed: '${form.seed.trim()}' is not a whole number` };
  return {
    input: {
      runs: [...form.runs],
      folder,
      classes: [a, b],
      ...(perClass !== null ? { perClass } : {}),
      ...(perClass !== null && seed !== null ? { seed } : {}),
      ...(form.tta !== '' ? { tta: form.tta } : {}),
      ...(form.faces !== '' ? { faces: form.faces === 'on' } : {}),
    },
  };
}

/** A job's result that is an evaluation (job.finished carries `unknown`). */
export function isEvaluateResult(v: unknown): v is EvaluateResult {
  if (typeof v !== 'object' || v === null) return false;
  return 'runs' in v && Array.isArray(v.runs) && 'classes' in v && Array.isArray(v.classes) && 'unreadable' in v && Array.isArray(v.unreadable);
}

/** The run's recorded AUC and where it was measured ('0.9123 val', '0.8810 out of fold'). */
export function ownScore(r: Pick<EvaluateRun, 'recorded'>): { auc: string; on: string } {
  return { auc: r.recorded.auc === null ? '–' : r.recorded.auc.toFixed(4), on: r.recorded.on === 'val' ? 'val' : 'out of fold' };
}


/** Past this many images a dialog suggests a sample: each image is decoded and scored once per run (and its faces searched). */
export const LARGE_EVALUATION = 2000;

/**
 * How much the dialog's choices will score, before Score is pressed: "4,070 images (1,930 + 2,140) × 2 runs",
 * and for a large folder with no sample, a hint to draw one. null while the classes' subfolders are not both chosen.
 */
export function workloadText(
  subfolders: ReadonlyArray<{ name: string; images: number }>,
  classes: readonly [string, string],
  perClass: string,
  runs: number,
): { text: string; large: boolean } | null {
  const found = classes.map((c) => subfolders.find((f) => f.name === c)?.images);
  const [a, b] = found;
  if (a === undefined || b === undefined || classes[0] === classes[1]) return null;
  const n = count(perClass);
  const per = n !== null && n >= 1 ? n : null;
  const used = [a, b].map((k) => (per === null ? k : Math.min(k, per)));
  const total = (used[0] ?? 0) + (used[1] ?? 0);
  const text = `${total.toLocaleString('en')} images (${used.map((k) => k.toLocaleString('en')).join(' + ')}) × ${runs === 1 ? '1 run' : `${runs} runs`}`;
  const large = per === null && total > LARGE_EVALUATION;
  return { text: large ? `${text}: every image of the folder, which takes a while; Images per class draws a sample (500 gives a quick check)` : text, large };
}
