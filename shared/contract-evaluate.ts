/**
 * The contract of `evaluate`: finished runs scored on an independent labelled folder (one subfolder per
 * class), the generalisation check beside a run's own validation score. A job (`evaluate.start`) whose
 * result is an `EvaluateResult`; the CLI parses its flags through `EvaluateInput` and calls the same handler.
 */
import { z } from 'zod';
import { CompareRow, DeLongTest } from './contract-compare';
import { PREDICT_STATUSES } from './contract-predict';
import { ENGINE_PREFS, TTA_MODES } from './names';

export const EVALUATE_SEED_DEFAULT = 42;

export const EvaluateInput = z
  .object({
    /** Run ids or unique prefixes, each scored on the same images. */
    runs: z.array(z.string().min(1)).min(1),
    /** The labelled folder: one subfolder per class, images below each (recursively). */
    folder: z.string().min(1),
    /**
     * The subfolders standing for the library's first and second class, in the library's class order;
     * absent: the subfolders named like the classes (their names, or their display names).
     */
    classes: z.array(z.string().min(1)).optional(),
    /** A seeded random sample of this many images per class; absent: every image. */
    perClass: z.number().int().min(1).optional(),
    seed: z.number().int().default(EVALUATE_SEED_DEFAULT),
    /** As `predict`: absent, each run's own recorded mode. */
    tta: z.enum(TTA_MODES).optional(),
    /** As `predict`: absent, as each run's own rows were scored. */
    faces: z.boolean().optional(),
    engine: z.enum(ENGINE_PREFS).optional(),
  })
  .superRefine((v, ctx) => {
    if (new Set(v.runs).size !== v.runs.length) ctx.addIssue({ code: 'custom', path: ['runs'], message: 'a run is named twice' });
    if (v.classes !== undefined && (v.classes.length !== 2 || v.classes[0] === v.classes[1])) {
      ctx.addIssue({
        code: 'custom',
        path: ['classes'],
        message: 'name two different subfolders, A,B: the one for the library\'s first class, then the one for its second',
      });
    }
  });
export type EvaluateInput = z.infer<typeof EvaluateInput>;

/** One image scored by one run. */
export const EvaluateRow = z.object({
  /** Relative to the folder, '/'-separated ('with_mask/0001.jpg'). */
  file: z.string(),
  /** The library class the image's subfolder stands for. */
  class: z.string(),
  run: z.string(),
  /** p(the library's second class); null when the file could not be read. */
  probability: z.number().nullable(),
  status: z.enum(PREDICT_STATUSES),
  message: z.string().nullable(),
});
export type EvaluateRow = z.infer<typeof EvaluateRow>;

export const EvaluateClass = z.object({
  /** The library's class (as written in its labels) and how it is shown. */
  name: z.string(),
  displayName: z.string(),
  /** The subfolder standing for it. */
  folder: z.string(),
  /** Images found in the subfolder (by extension, recursively). */
  found: z.number().int(),
  /** Of them, the ones scored (all, or the --per-class sample). */
  used: z.number().int(),
});
export type EvaluateClass = z.infer<typeof EvaluateClass>;

export const EvaluateRun = z.object({
  runId: z.string(),
  /**
   * The run on the folder's readable images: count (n), AUC and log loss with 95 % bootstrap intervals,
   * accuracy, precision, recall and F1 at 0.5; `tta` and `faces` as these images were scored.
   */
  row: CompareRow,
  positives: z.number().int(),
  negatives: z.number().int(),
  /** Files this run could not read (not scored). */
  unreadable: z.number().int(),
  /** The run's own recorded score: its best epoch's validation AUC, or a K-fold run's out-of-fold AUC. */
  recorded: z.object({ on: z.enum(['val', 'out-of-fold']), auc: z.number().nullable(), logLoss: z.number().nullable() }),
  /** recorded AUC − this AUC (positive: it scores worse here than on its own data); null when either is missing. */
  drop: z.number().nullable(),
  engine: z.enum(['onnx', 'tfjs']),
  provider: z.string(),
  /** Why 'auto' did not use ONNX Runtime, else null. */
  fallback: z.string().nullable(),
  seconds: z.number(),
});
export type EvaluateRun = z.infer<typeof EvaluateRun>;

export const EvaluateResult = z.object({
  folder: z.string(),
  /** The library's two classes, first then second, with the subfolders standing for them. */
  classes: z.array(EvaluateClass),
  perClass: z.number().int().nullable(),
  seed: z.number().int(),
  /** Image files scored by each run (both classes). */
  files: z.number().int(),
  /** Files in the class subfolders that are not images (by extension), left out. */
  skipped: z.number().int(),
  /** Subfolders that stand for no class, left out. */
  otherFolders: z.array(z.string()),
  /** Files no run could read: counted, not scored. */
  unreadable: z.array(z.object({ file: z.string(), message: z.string() })),
  /** Best first: highest AUC, then lowest log loss. */
  runs: z.array(EvaluateRun),
  /** DeLong's test between the two best on the images both scored; null with one run. */
  delong: DeLongTest.nullable(),
  /** Every image for every run, runs in the order asked, files in the order scored. */
  rows: z.array(EvaluateRow),
});
export type EvaluateResult = z.infer<typeof EvaluateResult>;

/** What the app shows before an evaluation: the folder's subfolders, to say which one stands for each class. */
export const EvaluateFoldersInput = z.object({ folder: z.string().min(1) });
export const EvaluateFolders = z.object({
  /** The folder as read (absolute). */
  folder: z.string(),
  /** Its subfolders (hidden ones left out), sorted, each with its images (by extension, recursively). */
  subfolders: z.array(z.object({ name: z.string(), images: z.number().int() })),
  /** The library's two classes, first then second. */
  classes: z.array(z.object({ name: z.string(), displayName: z.string() })),
  /** Per class, in that order: the subfolder named like it (as evaluate.start matches without `classes`), or null. */
  suggested: z.array(z.string().nullable()),
});
export type EvaluateFolders = z.infer<typeof EvaluateFolders>;

export const evaluateMethods = {
  /**
   * Reads names only (no image is opened): the same folder rules as evaluate.start, and its refusals of a
   * missing folder or a file.
   */
  'evaluate.folders': { input: EvaluateFoldersInput, output: EvaluateFolders },
  /**
   * A job (its result is an EvaluateResult). The folder, when named by a page, must lie in the folders the
   * front end allows; bad input (unknown or unfinished run, no such folder, subfolders that match no class,
   * a class without images) is refused before the job starts.
   */
  'evaluate.start': { input: EvaluateInput, output: z.object({ jobId: z.string() }) },
} as const;
