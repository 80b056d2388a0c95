/**
 * `predict`: a run's checkpoint on image files, folders (recursively) and lists of paths, streamed in
 * batches (bounded memory whatever the count), one row per file: a file that cannot be read gets its error
 * in its row and the others go on. Flags are parsed through the contract's PredictInput.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import type { z } from 'zod';
import { PredictInput, type PredictSummary } from '../../../shared/contract-predict';
import { TTA_MODES } from '../../../shared/names';
import { UsageError, boolOpt, stringOpt, type Command, type ParsedArgs } from '../command';
import type { CliContext } from '../context';
import { csvWriter, jsonWriter, textWriter, type RowWriter } from '../predict-output';

const FLAGS: Record<string, string> = {
  run: '--run',
  inputs: 'FILE',
  filesFrom: '--files-from',
  engine: '--engine',
  backend: '--backend',
  batchSize: '--batch',
  tta: '--tta',
  out: '--out',
  explain: '--explain',
  layer: '--layer',
};

function usageOf(error: z.ZodError): UsageError {
  const parts = error.issues.map((i) => {
    const key = String(i.path[0] ?? '');
    return `${FLAGS[key] ?? key}: ${i.message}`;
  });
  return new UsageError(parts.join('; '));
}

/** The flags as the contract's input; a bad value is a usage error naming the flag. */
export function parsePredictArgs(args: ParsedArgs): PredictInput {
  const batch = stringOpt(args, 'batch');
  const candidate = {
    run: stringOpt(args, 'run') ?? '',
    inputs: args.positionals,
    filesFrom: stringOpt(args, 'files-from'),
    engine: stringOpt(args, 'engine'),
    backend: stringOpt(args, 'backend'),
    batchSize: batch === undefined ? undefined : batch.trim() === '' ? Number.NaN : Number(batch),
    tta: stringOpt(args, 'tta'),
    faces: boolOpt(args, 'faces') ? true : boolOpt(args, 'no-faces') ? false : undefined,
    out: stringOpt(args, 'out'),
    explain: stringOpt(args, 'explain'),
    layer: stringOpt(args, 'layer'),
  };
  if (boolOpt(args, 'faces') && boolOpt(args, 'no-faces')) throw new UsageError('--faces and --no-faces contradict each other');
  const parsed = PredictInput.safeParse(candidate);
  if (!parsed.success) throw usageOf(parsed.error);
  return parsed.data;
}

/** Where each explanation goes: OUT itself for one file; OUT/<name>-gradcam.png for several (OUT a folder). */
function explainTargets(out: string, files: readonly string[]): string[] {
  if (files.length === 1) return [resolvePath(out)];
  if (/\.png$/i.test(out)) throw new UsageError(`--explain ${out}: with ${files.length} files, --explain takes a folder (one PNG per file is written in it)`);
  const used = new Map<string, number>();
  return files.map((f) => {
    const stem = basename(f).replace(/\.[^.]*$/, '');
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    return join(resolvePath(out), `${stem}${n > 1 ? `-${n}` : ''}-gradcam.png`);
  });
}

async function explain(ctx: CliContext, input: PredictInput & { explain: string }, files: readonly string[], backend: string): Promise<void> {
  const targets = explainTargets(input.explain, files);
  const { explainFiles } = await import('../../core/ml/explain/explain-files');
  const results = await explainFiles(ctx.library(false), input.run, files, input.layer !== undefined ? { layer: input.layer } : {});
  if (files.length > 1) await mkdir(resolvePath(input.explain), { recursive: true });
  const rows: Array<{ file: string; probability: number; label: string; explanation: string; layer: string; through: string | null; width: number; height: number }> = [];
  for (const [i, r] of results.entries()) {
    const out = targets[i] ?? '';
    await writeFile(out, r.png);
    rows.push({ file: r.file, probability: r.probability, label: r.label, explanation: out, layer: r.layer, through: r.through, width: r.width, height: r.height });
  }
  ctx.print(rows, () =>
    [
      `Grad-CAM at layer ${results[0]?.layer ?? '?'} (TensorFlow.js on ${backend}); each map shows the evidence for the predicted class`,
      ...rows.map((r) => `${r.file}\t${r.probability.toFixed(4)}\t${r.label}\t${r.explanation}${r.through === null ? '' : `\tthrough ${r.through}`}`),
    ].join('\n'),
  );
}

/** The rate once there are enough images for it to mean something (one image in 22 s is loading, not 0.0 images/s). */
function rate(s: PredictSummary): string {
  return s.scored >= 20 ? `, ${s.imagesPerSecond.toFixed(1)} images/s` : ' (mostly loading the model: too few images for a rate)';
}

function describe(s: PredictSummary): string {
  const notes = [
    s.truncated > 0 ? `${s.truncated} truncated` : '',
    s.corrupt > 0 ? `${s.corrupt} with corrupt data` : '',
    s.errors > 0 ? `${s.errors} unreadable (see their rows)` : '',
    s.skipped > 0 ? `${s.skipped} non-image files in the folders skipped` : '',
  ].filter((n) => n !== '');
  const engine = s.engine === 'onnx' ? `ONNX Runtime (${s.provider})` : `TensorFlow.js (${s.provider})`;
  return (
    `scored ${s.scored} of ${s.files} files with run ${s.runId} on ${engine}${s.tta !== 'none' ? ` with TTA ${s.tta}` : ''}${s.faces ? ', faces scored too' : ''} in ${s.seconds.toFixed(1)} s${rate(s)}` +
    `${notes.length > 0 ? `; ${notes.join(', ')}` : ''}${s.out !== null ? `; wrote ${s.out}` : ''}`
  );
}

/** A progress bar on a TTY's stderr, cleared before rows are printed on the same terminal. */
function progressBar(ctx: CliContext, rowsOnTerminal: boolean): { update(done: number, total: number): void; clear(): void } {
  const draw = ctx.progress('predict');
  const started = Date.now();
  let shown = false;
  return {
    update(done, total) {
      const elapsed = Date.now() - started;
      draw({ phase: 'images', done, total, etaMs: done > 0 && done < total ? (elapsed / done) * (total - done) : null });
      shown = Boolean(ctx.stderr.isTTY) && done < total;
    },
    clear() {
      if (shown && rowsOnTerminal) ctx.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

export const predict: Command = {
  name: 'predict',
  usage:
    'predict --run ID [FILE|FOLDER...] [--files-from LIST|-] [--out FILE.csv] [--batch N] [--engine auto|onnx|tfjs] ' +
    `[--tta ${TTA_MODES.join('|')}] [--faces|--no-faces] [--backend auto|tensorflow|wasm|cpu] [--explain OUT.png|DIR] [--layer NAME]`,
  summary:
    "a run's probability of the second class for image files, folders (every image below them) and lists of paths (one a line; " +
    "'-' reads stdin); one row per file, a file that cannot be read says why in its row; --out writes a CSV; " +
    '--explain writes a Grad-CAM heatmap over each image (TensorFlow.js)',
  options: {
    run: { type: 'string' },
    backend: { type: 'string' },
    engine: { type: 'string' },
    explain: { type: 'string' },
    layer: { type: 'string' },
    'files-from': { type: 'string' },
    batch: { type: 'string' },
    out: { type: 'string' },
    tta: { type: 'string' },
    faces: { type: 'boolean' },
    'no-faces': { type: 'boolean' },
  },
  async run(ctx, args) {
    const input = parsePredictArgs(args);
    const { collectPredictFiles } = await import('../../core/ml/inference/predict-inputs');
    const { files, skipped } = await collectPredictFiles(input.inputs, input.filesFrom);
    const lib = ctx.library(false);
    const { chooseBackend } = await import('../../core/ml/backend/train-backend');
    // the backend is needed on the ONNX path too: the one-time export loads the tfjs checkpoint
    const chosen = await chooseBackend(input.backend ?? 'auto');
    if (input.explain !== undefined) {
      await explain(ctx, { ...input, explain: input.explain }, files, chosen.backend);
      return;
    }
    const { predictStream } = await import('../../core/ml/inference/predict-stream');
    const toFile = input.out !== undefined;
    const writer: RowWriter = toFile ? csvWriter(input.out ?? '') : ctx.json ? jsonWriter(ctx.stdout) : textWriter(ctx.stdout);
    const bar = progressBar(ctx, !toFile && Boolean((ctx.stdout as { isTTY?: boolean }).isTTY));
    let result;
    try {
      result = await predictStream(
        lib,
        input.run,
        files,
        async (row) => {
          bar.clear();
          await writer.row(row);
        },
        {
          ...(input.engine !== undefined ? { engine: input.engine } : {}),
          ...(input.batchSize !== undefined ? { batchSize: input.batchSize } : {}),
          ...(input.tta !== undefined ? { tta: input.tta } : {}),
          ...(input.faces !== undefined ? { faces: input.faces } : {}),
          onProgress: (done, total) => bar.update(done, total),
        },
      );
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const out = await writer.end();
    if (result.fallback !== null) ctx.stderr.write(`warning: predicting with TensorFlow.js: ${result.fallback}\n`);
    const summary: PredictSummary = { ...result, skipped, imagesPerSecond: result.scored / Math.max(result.seconds, 1e-6), out };
    if (toFile) ctx.print(summary, () => describe(summary));
    else ctx.stderr.write(`${describe(summary)}\n`);
  },
};
