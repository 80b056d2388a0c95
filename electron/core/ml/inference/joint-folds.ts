/**
 * A frozen transfer run's folds share their base: its weights were never trained, only the heads differ.
 * Their mean is then one network (the base once, each fold's head on its pooled features, the heads'
 * probabilities averaged) that scores an image for the price of one fold instead of K. Measured on the real
 * data's 5-fold frozen InceptionV3: predict and the face scoring of test and submission ran every image
 * through five full networks.
 *
 * The joint network is built once from the fold checkpoints into models/<run>/folds-joint (a checkpoint like
 * any, so ONNX Runtime exports and caches it as it does a fold's) and built again when the finished folds or
 * their files change. Where the bases differ (a scratch CNN, fine-tuned tops) there is none, and the folds
 * predict one by one.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModel, MODEL_JSON, WEIGHTS_BIN } from '../model-io';
import { HEAD_PREFIX } from '../models';
import { writeCheckpoint, type CheckpointInfo } from '../runs/checkpoint';

export const JOINT_DIR = 'folds-joint';
const STAMP = 'joint.json';

interface WeightSpan {
  name: string;
  shape: number[];
  start: number;
  bytes: number;
}

/** Every weight's place in a checkpoint's weights.bin (float32, in the manifest's order). */
async function weightSpans(dir: string): Promise<WeightSpan[] | null> {
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as { weightsManifest?: Array<{ weights?: Array<{ name: string; shape: number[]; dtype?: string; quantization?: unknown }> }> };
  const specs = (json.weightsManifest ?? []).flatMap((g) => g.weights ?? []);
  let start = 0;
  const out: WeightSpan[] = [];
  for (const s of specs) {
    if ((s.dtype ?? 'float32') !== 'float32' || s.quantization !== undefined) return null;
    const bytes = s.shape.reduce((a, b) => a * b, 1) * 4;
    out.push({ name: s.name, shape: s.shape, start, bytes });
    start += bytes;
  }
  return out;
}

const isHead = (weightName: string): boolean => weightName.startsWith(HEAD_PREFIX);

/** What the joint network was built from: each fold's folder, and its files' sizes and times. */
async function stampOf(dirs: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    dirs.map(async (d) => {
      const [w, m] = await Promise.all([stat(join(d, WEIGHTS_BIN)), stat(join(d, MODEL_JSON))]);
      return `${basename(d)}:${w.size}:${w.mtimeMs}:${m.size}:${m.mtimeMs}`;
    }),
  );
  return parts.join(';');
}

/**
 * Each fold's head weights by name when every fold has the same weights outside its head (the same frozen
 * base), else null.
 */
async function sharedBaseHeads(dirs: readonly string[]): Promise<Array<Map<string, Float32Array>> | null> {
  const first = dirs[0];
  if (first === undefined) return null;
  const spans0 = await weightSpans(first);
  if (spans0 === null || !spans0.some((s) => isHead(s.name)) || !spans0.some((s) => !isHead(s.name))) return null;
  const bin0 = await readFile(join(first, WEIGHTS_BIN));
  const heads: Array<Map<string, Float32Array>> = [];
  for (const d of dirs) {
    const spans = await weightSpans(d);
    if (spans === null || spans.length !== spans0.length) return null;
    const bin = d === first ? bin0 : await readFile(join(d, WEIGHTS_BIN));
    const head = new Map<string, Float32Array>();
    for (const [i, s] of spans.entries()) {
      const s0 = spans0[i];
      if (!s0 || s0.name !== s.name || s0.shape.join('x') !== s.shape.join('x')) return null;
      const bytes = bin.subarray(s.start, s.start + s.bytes);
      if (isHead(s.name)) head.set(s.name, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
      else if (d !== first && !bytes.equals(bin0.subarray(s0.start, s0.start + s0.bytes))) return null;
    }
    heads.push(head);
  }
  return heads;
}

/** Fold 0's classifier with every fold's head on its pooled features, averaged; null when its head is not a chain of Dense and Dropout. */
function jointModel(fold0: tf.LayersModel, heads: ReadonlyArray<ReadonlyMap<string, Float32Array>>): tf.LayersModel | null {
  const poolIndex = fold0.layers.findIndex((l) => l.name === `${HEAD_PREFIX}pool`);
  const pool = fold0.layers[poolIndex];
  if (!pool || fold0.outputs.length !== 1) return null;
  const chain = fold0.layers.slice(poolIndex + 1);
  if (chain.length === 0 || chain.some((l) => !['Dense', 'Dropout'].includes(l.getClassName()))) return null;
  const outs: tf.SymbolicTensor[] = [];
  const assign: Array<{ layer: tf.layers.Layer; values: Float32Array[]; shapes: number[][] }> = [];
  heads.forEach((head, f) => {
    let y = pool.output as tf.SymbolicTensor;
    for (const layer of chain) {
      if (layer.getClassName() === 'Dropout') continue; // the identity at inference
      const copy = tf.layers.dense({ ...(layer.getConfig() as unknown as Parameters<typeof tf.layers.dense>[0]), name: `fold${f}_${layer.name}` });
      y = copy.apply(y) as tf.SymbolicTensor;
      const names = layer.weights.map((w) => w.originalName);
      const values = names.map((n) => head.get(n));
      if (values.some((v) => v === undefined)) throw new Error(`fold ${f}'s checkpoint lacks ${names.join(' or ')}`);
      assign.push({ layer: copy, values: values as Float32Array[], shapes: layer.weights.map((w) => w.shape as number[]) });
    }
    outs.push(y);
  });
  const out = outs.length === 1 ? outs[0] : (tf.layers.average({ name: 'folds_mean' }).apply(outs) as tf.SymbolicTensor);
  if (!out) return null;
  const joint = tf.model({ inputs: fold0.inputs, outputs: out, name: `${fold0.name}_folds` });
  for (const a of assign) {
    const tensors = a.values.map((v, i) => tf.tensor(v, a.shapes[i]));
    a.layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  return joint;
}

/**
 * The joint network's checkpoint folder for a K-fold run whose finished folds (`dirs`) share a frozen base,
 * built now when missing or stale; null when the bases differ (the folds then predict one by one).
 */
export async function jointFoldsDir(runDir: string, dirs: readonly string[], info: CheckpointInfo): Promise<string | null> {
  if (dirs.length < 2) return null;
  const dir = join(runDir, JOINT_DIR);
  const stamp = await stampOf(dirs);
  try {
    const was = JSON.parse(await readFile(join(dir, STAMP), 'utf8')) as { stamp?: string; joint?: boolean };
    if (was.stamp === stamp) return was.joint === true && existsSync(join(dir, MODEL_JSON)) ? dir : null;
  } catch {
    // not built yet, or unreadable: build it
  }
  const heads = await sharedBaseHeads(dirs);
  // written beside, then moved into place: a reader never sees half a checkpoint
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  let joint: tf.LayersModel | null = null;
  const fold0 = heads === null ? null : await loadModel(dirs[0] ?? '');
  try {
    joint = fold0 !== null && heads !== null ? jointModel(fold0, heads) : null;
    if (joint !== null) await writeCheckpoint(joint, tmp, info);
    else await mkdir(tmp, { recursive: true });
    await writeFile(join(tmp, STAMP), `${JSON.stringify({ stamp, joint: joint !== null })}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch((err: unknown) => {
      // another process (the studio beside a CLI predict) moved the same network into place first
      if (!existsSync(join(dir, STAMP))) throw err;
    });
  } finally {
    // the joint network shares fold 0's layers: disposing both models would dispose those twice
    if (joint !== null) {
      const shared = new Set(joint.layers);
      joint.dispose();
      for (const l of fold0?.layers ?? []) if (!shared.has(l)) l.dispose();
    } else fold0?.dispose();
    await rm(tmp, { recursive: true, force: true });
  }
  return joint !== null ? dir : null;
}
