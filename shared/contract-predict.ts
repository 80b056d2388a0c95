/**
 * The contract of `predict`: a run's best checkpoint on image files, folders and lists of files. The CLI
 * parses its flags through `PredictInput`; every file gets one `PredictRow`, also the ones that cannot be
 * read (an error row), so one bad file never stops the others.
 */
import { z } from 'zod';
import { BACKEND_PREFS, ENGINE_PREFS, TTA_MODES } from './names';

/** Images decoded and scored at once; memory is about two batches of pixels whatever the number of files. */
export const PREDICT_BATCH_DEFAULT = 32;
export const PREDICT_BATCH_MAX = 1024;

export const PredictInput = z
  .object({
    /** A run id or a unique prefix of one. */
    run: z.string().min(1, 'needs a run id'),
    /** Image files, and folders (every image below them, recursively). */
    inputs: z.array(z.string().min(1, 'an empty file name')).default([]),
    /** A file listing one path per line (files or folders); '-' reads the list from stdin. */
    filesFrom: z.string().min(1).optional(),
    engine: z.enum(ENGINE_PREFS).optional(),
    backend: z.enum(BACKEND_PREFS).optional(),
    batchSize: z.number().int().min(1).max(PREDICT_BATCH_MAX).optional(),
    /** Test-time augmentation (the mean over the views); absent: the run's own, as recorded when it trained. */
    tta: z.enum(TTA_MODES).optional(),
    /** Score each image's faces too (`--faces` / `--no-faces`); absent: as the run's own rows were scored. */
    faces: z.boolean().optional(),
    /** Writes the rows to this CSV (file,probability,label,status,message) instead of listing them. */
    out: z.string().min(1).optional(),
    /** Grad-CAM heatmaps: a PNG for one file, a folder for several (TensorFlow.js only). */
    explain: z.string().min(1).optional(),
    layer: z.string().min(1).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.inputs.length === 0 && v.filesFrom === undefined) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'name at least one image file or folder, or --files-from LIST' });
    }
    if (v.layer !== undefined && v.explain === undefined) ctx.addIssue({ code: 'custom', path: ['layer'], message: 'only goes with --explain' });
    if (v.explain !== undefined && v.engine === 'onnx') {
      ctx.addIssue({ code: 'custom', path: ['explain'], message: 'needs gradients, which only TensorFlow.js gives: drop --engine onnx' });
    }
    if (v.explain !== undefined && v.tta !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['tta'], message: 'does not go with --explain (a heatmap explains one view of the image)' });
    }
    if (v.explain !== undefined && v.faces !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['faces'], message: 'does not go with --explain (a heatmap explains the whole image)' });
    }
    if (v.explain !== undefined && v.out !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['out'], message: 'does not go with --explain (which writes images, one row per file on stdout)' });
    }
  });
export type PredictInput = z.infer<typeof PredictInput>;

/**
 * ok: scored. truncated: the file ends before its end-of-image marker, scored on the part that decoded.
 * corrupt: the decoder warned about the data, scored on what decoded. error: not scored (message says why).
 */
export const PREDICT_STATUSES = ['ok', 'truncated', 'corrupt', 'error'] as const;
export type PredictStatus = (typeof PREDICT_STATUSES)[number];

export const PredictRow = z.object({
  /** The path as given (a folder's images: the folder as given joined with the path below it). */
  file: z.string(),
  /** The probability of the second class; null when the file could not be scored. */
  probability: z.number().nullable(),
  /** The class at threshold 0.5; null when not scored. */
  label: z.string().nullable(),
  status: z.enum(PREDICT_STATUSES),
  message: z.string().nullable(),
});
export type PredictRow = z.infer<typeof PredictRow>;

export const PredictSummary = z.object({
  runId: z.string(),
  files: z.number().int(),
  scored: z.number().int(),
  truncated: z.number().int(),
  corrupt: z.number().int(),
  errors: z.number().int(),
  /** Files in the named folders that are not images (by extension), left out. */
  skipped: z.number().int(),
  engine: z.enum(['onnx', 'tfjs']),
  provider: z.string(),
  /** The test-time augmentation the probabilities were averaged over. */
  tta: z.enum(TTA_MODES),
  /** Whether each image's faces were scored too. */
  faces: z.boolean(),
  /** Why 'auto' did not use ONNX Runtime, else null. */
  fallback: z.string().nullable(),
  seconds: z.number(),
  imagesPerSecond: z.number(),
  /** The CSV written with --out, else null. */
  out: z.string().nullable(),
});
export type PredictSummary = z.infer<typeof PredictSummary>;
