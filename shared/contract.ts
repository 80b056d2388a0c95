/**
 * The contract between the studio's front ends (Electron renderer, `serve`, tests) and core.
 * Every method has a zod input and output schema; every event a payload schema. Inputs are validated
 * where they enter (IPC, HTTP, CLI flags); core trusts what `dispatch()` hands it.
 */
import { z } from 'zod';
import { compareMethods } from './contract-compare';
import { evaluateMethods } from './contract-evaluate';
import { ImportDetected, ImportInput } from './contract-import';
import { JobStatus, RunEpoch, RunInfo, RunPrediction, TrainInput, TrainModelInfo } from './contract-train';
import { DoctorReport } from './doctor';

export * from './contract-import';
export * from './contract-train';

// ---------------------------------------------------------------- shared shapes

export const SPLITS = ['unassigned', 'train', 'val', 'test', 'submission'] as const;
export const Split = z.enum(SPLITS);
export type Split = z.infer<typeof Split>;

export const DECODE_STATUSES = ['ok', 'unreadable', 'truncated', 'empty', 'not-an-image', 'too-large'] as const;
export const DecodeStatus = z.enum(DECODE_STATUSES);
export type DecodeStatus = z.infer<typeof DecodeStatus>;

export const FINDING_KINDS = [
  'unreadable',
  'truncated',
  'empty-file',
  'not-an-image',
  'extension-mismatch',
  'exact-duplicate',
  'near-duplicate',
  'label-conflict',
  'split-leak',
  'size-outlier',
  'colour-space',
  'missing-file',
  'unlabelled',
  'unknown-label',
  'duplicate-row',
  'shortcut',
  /** From `mask-studio doubts`: the models' out-of-fold probabilities doubt the given label. */
  'label-doubt',
] as const;
export const FindingKind = z.enum(FINDING_KINDS);
export type FindingKind = z.infer<typeof FindingKind>;

/** Each finding kind as the studio's menus name it (Library's filter and Review's "show" say the same). */
export const FINDING_KIND_TEXT: Readonly<Record<FindingKind, string>> = {
  unreadable: 'unreadable',
  truncated: 'truncated',
  'empty-file': 'empty file',
  'not-an-image': 'not an image',
  'extension-mismatch': 'extension mismatch',
  'exact-duplicate': 'exact duplicate group',
  'near-duplicate': 'near duplicate group',
  'label-conflict': 'label conflict',
  'split-leak': 'split leak',
  'size-outlier': 'size outlier',
  'colour-space': 'colour space',
  'missing-file': 'missing file',
  unlabelled: 'unlabelled',
  'unknown-label': 'unknown label',
  'duplicate-row': 'duplicate CSV row',
  shortcut: 'shortcut',
  'label-doubt': 'label doubt',
};

export const Severity = z.enum(['error', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

export const FindingStatus = z.enum(['open', 'dismissed', 'resolved']);
export type FindingStatus = z.infer<typeof FindingStatus>;

/** An image is named by its id, its file name, or its path relative to the imported folder. */
export const ImageRef = z.union([z.number().int().positive(), z.string().min(1)]);
export type ImageRef = z.infer<typeof ImageRef>;

/**
 * The most images one edit names: a person's select-all on a large library fits; a bigger list is refused
 * with the number to split it by, so no single call holds the library's writer for long.
 */
export const MAX_IMAGES_PER_CALL = 100_000;
export const ImageRefs = z
  .array(ImageRef)
  .min(1)
  .max(MAX_IMAGES_PER_CALL, {
    error: (issue) =>
      `at most ${MAX_IMAGES_PER_CALL.toLocaleString('en')} images per call (got ${Array.isArray(issue.input) ? issue.input.length.toLocaleString('en') : 'more'}): send the rest in further calls`,
  });

export const ClassInfo = z.object({
  name: z.string(), // as written in the labels ("0", "1")
  displayName: z.string(), // shown to people ("no mask", "mask")
  hotkey: z.string().nullable(),
  position: z.number().int(),
});
export type ClassInfo = z.infer<typeof ClassInfo>;

export const ImageRow = z.object({
  id: z.number().int(),
  path: z.string(),
  relPath: z.string(),
  fileName: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  format: z.string().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  channels: z.number().int().nullable(),
  space: z.string().nullable(),
  hasAlpha: z.boolean().nullable(),
  orientation: z.number().int().nullable(),
  decodeStatus: DecodeStatus,
  decodeError: z.string().nullable(),
  phash: z.string().nullable(),
  label: z.string().nullable(),
  split: Split,
  excluded: z.boolean(),
  excludeReason: z.string().nullable(),
  missing: z.boolean(),
  /** In images.list pages: the image is in a finding still open for it (the grid's badge). */
  openFinding: z.boolean().optional(),
  /** In images.list pages filtered by a finding kind: the finding the image is listed with (its group's members are listed together). */
  group: z.number().int().nullable().optional(),
});
export type ImageRow = z.infer<typeof ImageRow>;

/** One line of a finding's evidence in words ("of them 'mask'": "59 (97 %)"); the page shows these, not `detail`'s keys. */
export const FindingFact = z.object({ label: z.string(), value: z.string() });
export type FindingFact = z.infer<typeof FindingFact>;

export const Finding = z.object({
  id: z.number().int(),
  key: z.string(), // stable across audits: decisions survive a re-audit
  kind: FindingKind,
  severity: Severity,
  images: z.array(z.string()), // relative paths of the images involved (up to 1,000 in a findings.list page)
  imageIds: z.array(z.number().int()),
  imageCount: z.number().int(), // images the finding names in all (images.list with filter.findingId pages them)
  message: z.string(),
  /** The evidence for people, in words and units. */
  facts: z.array(FindingFact),
  /** The evidence for programs (raw numbers, stable keys). */
  detail: z.record(z.string(), z.unknown()),
  status: FindingStatus,
});
export type Finding = z.infer<typeof Finding>;

export const FivePoint = z.object({
  count: z.number().int(),
  min: z.number(),
  q1: z.number(),
  median: z.number(),
  q3: z.number(),
  max: z.number(),
  lowerFence: z.number(),
  upperFence: z.number(),
  outliers: z.number().int(),
  /** How the fences were drawn, in words ("Tukey's fences at 1.5·IQR on the log scale"); all numbers are in the values' units. */
  rule: z.string(),
});
export type FivePoint = z.infer<typeof FivePoint>;

export const Stats = z.object({
  images: z.number().int(),
  included: z.number().int(),
  excluded: z.number().int(),
  readable: z.number().int(),
  byClassAndSplit: z.array(z.object({ label: z.string().nullable(), split: Split, count: z.number().int() })),
  formats: z.array(z.object({ format: z.string(), count: z.number().int() })),
  width: FivePoint.nullable(),
  height: FivePoint.nullable(),
  aspect: FivePoint.nullable(),
  bytes: FivePoint.nullable(),
});
export type Stats = z.infer<typeof Stats>;

export const AuditSummary = z.object({
  images: z.number().int(),
  findings: z.number().int(),
  byKind: z.record(z.string(), z.number().int()),
  seconds: z.number(),
});

export const SplitInput = z.object({
  seed: z.number().int().nonnegative().default(42),
  val: z.number().min(0).max(0.9).default(0.15),
  test: z.number().min(0).max(0.9).default(0.15),
});
export type SplitInput = z.infer<typeof SplitInput>;

export const SplitSummary = z.object({
  seed: z.number().int(),
  counts: z.array(z.object({ split: Split, label: z.string(), count: z.number().int() })),
  groups: z.number().int(), // duplicate groups kept whole
  leaks: z.number().int(), // near-duplicate pairs across train/val/test after the split (0 by construction)
});
export type SplitSummary = z.infer<typeof SplitSummary>;

export const HistoryEntry = z.object({
  id: z.number().int(),
  batch: z.number().int(),
  image: z.string(),
  kind: z.enum(['label', 'exclusion']),
  oldValue: z.string().nullable(),
  newValue: z.string().nullable(),
  source: z.enum(['user', 'import', 'model-suggestion', 'review']),
  state: z.enum(['done', 'undone', 'dropped']),
  at: z.string(),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

export const ChangeResult = z.object({ batch: z.number().int().nullable(), changed: z.number().int() });
export type ChangeResult = z.infer<typeof ChangeResult>;

export const ImageFilter = z.object({
  label: z.string().nullable().optional(),
  split: Split.optional(),
  excluded: z.boolean().optional(),
  hasFinding: z.boolean().optional(),
  findingKind: FindingKind.optional(),
  /** The images one finding names (the Review view's evidence, paged like any list). */
  findingId: z.number().int().positive().optional(),
  search: z.string().optional(),
});
export type ImageFilter = z.infer<typeof ImageFilter>;

export const JobInfo = z.object({
  id: z.string(),
  kind: z.string(),
  status: JobStatus,
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  /** The run a training job writes (from its input); null for every other job. */
  runId: z.string().nullable(),
  /**
   * The settings a training job was started with (its stored input: what was asked, the model's defaults
   * left out), so a reloaded Train page shows them; null for every other job.
   */
  train: TrainInput.nullable(),
  /**
   * A running job's last step ('waiting for a training run (job 1a2b3c4d) to end', 'train 57 / 232'), where
   * the process running it is the one asked: a page loaded after the event shows the job as it stands.
   */
  step: z.object({ phase: z.string(), done: z.number(), total: z.number() }).optional(),
});
export type JobInfo = z.infer<typeof JobInfo>;

/** One job as the job table has it, with its result: what a page asks when it may have missed job.finished. */
export const JobState = JobInfo.extend({ result: z.unknown().optional() });
export type JobState = z.infer<typeof JobState>;

// ---------------------------------------------------------------- methods

const Empty = z.object({}).strict();

export const methods = {
  'library.info': {
    input: Empty,
    output: z.object({
      path: z.string(),
      schemaVersion: z.number().int(),
      images: z.number().int(),
      classes: z.array(ClassInfo),
      /** The sample submission a submission file follows (the latest import's), null before one was imported. */
      sampleSubmission: z.string().nullable(),
    }),
  },
  'classes.list': { input: Empty, output: z.array(ClassInfo) },
  'classes.rename': {
    input: z.object({ name: z.string().min(1), displayName: z.string().min(1) }),
    output: ClassInfo,
  },
  /** Removes a class no image carries; refused (CONFLICT) while images still have it. */
  'classes.remove': { input: z.object({ name: z.string().min(1) }), output: z.array(ClassInfo) },
  /** Every path must lie in a folder the front end allows (`serve --data-root`, the desktop's dialogs). */
  'import.start': { input: ImportInput, output: z.object({ jobId: z.string() }) },
  /** The folders import.start may read from here, so the page can say so before a refusal. */
  'import.roots': { input: Empty, output: z.object({ roots: z.array(z.string()) }) },
  'import.detect': { input: z.object({ dir: z.string().min(1) }), output: ImportDetected },
  'audit.run': { input: Empty, output: AuditSummary },
  /** The review queue in pages: errors first, then by kind and id; pass nextCursor back for the next page. */
  'findings.list': {
    input: z.object({
      kind: FindingKind.optional(),
      status: FindingStatus.optional(),
      /** Only the findings that name this image (the Library's "!" badge opens Review on them). */
      imageId: z.number().int().optional(),
      cursor: z.string().min(1).optional(),
      limit: z.number().int().positive().max(1000).default(200),
    }),
    output: z.object({
      findings: z.array(Finding),
      total: z.number().int(),
      nextCursor: z.string().nullable(),
      /** Open (status-filtered) findings per kind whatever the kind filter, in queue order; empty on an empty page. */
      kinds: z.array(z.object({ kind: FindingKind, count: z.number().int() })),
    }),
  },
  'findings.decide': {
    input: z.object({ id: z.number().int(), status: FindingStatus }),
    output: Finding,
  },
  'stats.get': { input: Empty, output: Stats },
  'split.run': { input: SplitInput, output: SplitSummary },
  /** Pages in list order: after `cursor` (from the last page) when given, else at `offset` (the grid's jumps). */
  'images.list': {
    input: z.object({
      filter: ImageFilter.default({}),
      offset: z.number().int().nonnegative().default(0),
      cursor: z.string().min(1).optional(),
      limit: z.number().int().positive().max(10_000).default(200),
    }),
    output: z.object({ total: z.number().int(), rows: z.array(ImageRow), nextCursor: z.string().nullable() }),
  },
  'images.get': { input: z.object({ image: ImageRef }), output: ImageRow },
  'labels.set': {
    input: z.object({ images: ImageRefs, label: z.string().min(1) }),
    output: ChangeResult,
  },
  'images.exclude': {
    input: z.object({ images: ImageRefs, reason: z.string().min(1) }),
    output: ChangeResult,
  },
  'images.restore': { input: z.object({ images: ImageRefs }), output: ChangeResult },
  'history.undo': { input: Empty, output: ChangeResult },
  'history.redo': { input: Empty, output: ChangeResult },
  /** Newest first, in pages: pass nextCursor back for older events. */
  'history.list': {
    input: z.object({ limit: z.number().int().positive().max(10_000).default(50), cursor: z.string().min(1).optional() }),
    output: z.object({ entries: z.array(HistoryEntry), nextCursor: z.string().nullable() }),
  },
  /** Writes a new folder under the library's exports/ (a page never names where a writer writes). */
  'export.run': {
    input: Empty,
    output: z.object({ outDir: z.string(), images: z.number().int(), submission: z.number().int() }),
  },
  'jobs.list': { input: Empty, output: z.array(JobInfo) },
  'jobs.cancel': { input: z.object({ jobId: z.string() }), output: z.object({ cancelled: z.boolean() }) },
  /** A job's state and result from the job table (NOT_FOUND for an id it never had). */
  'jobs.get': { input: z.object({ jobId: z.string() }), output: JobState },
  // ---- training (runs.*, train.*)
  'train.start': {
    input: TrainInput,
    /** warnings: the audit's unresolved error findings (training goes on; the person should know). */
    output: z.object({ jobId: z.string(), runId: z.string(), warnings: z.array(z.string()) }),
  },
  /** Which models can train here and from which weights (fast: no model is built). */
  'train.models': { input: Empty, output: z.array(TrainModelInfo) },
  'runs.list': { input: Empty, output: z.array(RunInfo) },
  /**
   * The runs whose training data (dataHash) is not the training set the library would give a run now:
   * images excluded, restored, relabelled or moved between splits since. The current set's hash is
   * computed once; null when the library cannot train now (then every run's data differs).
   */
  'runs.dataChanged': { input: Empty, output: z.object({ dataHash: z.string().nullable(), runs: z.array(z.string()) }) },
  'runs.get': { input: z.object({ id: z.string().min(1) }), output: RunInfo.extend({ epochs: z.array(RunEpoch) }) },
  /** In pages by image id (pass nextCursor back), or only `imageIds`. */
  'runs.predictions': {
    input: z.object({
      id: z.string().min(1),
      cursor: z.string().min(1).optional(),
      limit: z.number().int().positive().max(10_000).default(1000),
      imageIds: z.array(z.number().int().positive()).max(1000).optional(),
    }),
    output: z.object({ predictions: z.array(RunPrediction), nextCursor: z.string().nullable() }),
  },
  'runs.delete': { input: z.object({ id: z.string().min(1) }), output: z.object({ deleted: z.string() }) },
  // ---- the machine (what `mask-studio doctor --json` prints)
  'doctor.get': { input: Empty, output: DoctorReport },
  // ---- comparison, ensembles, label doubts, explanations, the report (contract-compare.ts)
  ...compareMethods,
  // ---- an independent labelled folder (contract-evaluate.ts)
  ...evaluateMethods,
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
export type MethodParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Methods[M]['output']>;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

// ---------------------------------------------------------------- events

export const events = {
  /** Long work: at most ~10 per second per job. */
  'job.progress': z.object({
    jobId: z.string(),
    kind: z.string(),
    phase: z.string(),
    done: z.number(),
    total: z.number(),
    etaMs: z.number().nullable(),
    metrics: z.record(z.string(), z.number()).optional(),
  }),
  /** Exactly one per job. */
  'job.finished': z.object({
    jobId: z.string(),
    kind: z.string(),
    status: z.enum(['done', 'failed', 'cancelled']),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    /** The last step the work reached (absent if it reported none): a cancelled job shows what was done. */
    last: z.object({ phase: z.string(), done: z.number(), total: z.number() }).optional(),
  }),
  /** Something in the library changed: views refetch what they show. */
  'library.changed': z.object({ what: z.enum(['images', 'labels', 'findings', 'split', 'classes']) }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.infer<Events[E]>;
export interface EventMessage<E extends EventName = EventName> {
  name: E;
  payload: EventPayload<E>;
}
