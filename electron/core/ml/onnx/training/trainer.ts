/**
 * ONNX Runtime as a training engine: the training graph runs one step per batch and the eval graph gives
 * probabilities. Weights and optimizer state live in two sets of buffers that the steps alternate between:
 * a step reads one set as its inputs and ONNX Runtime writes the next values straight into the other
 * (pre-allocated outputs), so no step copies the model through JavaScript or allocates it anew. The tfjs
 * model is written only when the loop needs it (pull) and read back after a restore (push).
 *
 * Dropout masks are drawn here from a seeded stream, tfjs's rule (keep with probability 1 − rate, scaled
 * by 1 / (1 − rate)): the same seed gives the same masks in any process.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../../random';
import type { Batch, EngineInfo, OptimizerOptions, StepResult, TrainEngine } from '../../train-engine';
import { defaultThreads, newOrtSession, resolveProvider, sessionOptions, type OnnxProvider } from '../runtime';
import { buildEvalGraph, buildTrainingGraph, type EvalGraph, type MicroStepIo, type TrainingGraph } from './build';
import { ADAM_DEFAULTS, nextName, type OptimizerSpec } from './optimizer';
import { readParam, writeParam } from './params';
import { planTraining, type TrainPlan } from './plan';

export interface OnnxTrainerOptions extends OptimizerOptions {
  /** Dropout on (end-to-end training); off keeps every layer in inference mode (fine-tuning). */
  training: boolean;
  /** Seeds the dropout masks. */
  seed: number;
  threads?: number;
  provider?: OnnxProvider | 'auto';
  spinning?: boolean;
  /** Which layers' weights train (default: the layers' own flags). */
  trainable?: (layer: tf.layers.Layer) => boolean;
  /** Also return each weight's gradient from a step (tests; implies one step per run). */
  gradients?: boolean;
  /** Optimizer steps per ONNX Runtime run (default DEFAULT_MICRO_STEPS). */
  microSteps?: number;
}

/**
 * Steps per run: onnxruntime-node copies every output it returns into a new JavaScript buffer (the weights
 * and the optimizer state, 34 MB for the default scratch CNN at 128 px: ~90 ms of page faults per copy on
 * the 2-core machine the benchmarks ran on, a quarter of a step). Four steps per run pay it once per four.
 */
export const DEFAULT_MICRO_STEPS = 4;

/** A batch as ONNX Runtime takes it. */
export interface RawBatch {
  x: ort.Tensor;
  labels: readonly number[];
  weights: readonly number[];
  masks?: ReadonlyMap<string, Float32Array>;
}

/**
 * Threads for a training session: every core, so that a run's arithmetic depends on the machine alone
 * (ONNX Runtime's convolutions and GEMMs sum in an order that depends on the thread count, and the same
 * seed must give the same run whatever else the machine is doing); threads spin only when the cores are
 * free at the start, so a busy machine is not made busier.
 */
export async function trainingThreads(): Promise<{ threads: number; spinning: boolean }> {
  const cores = Math.max(1, availableParallelism());
  return { threads: cores, spinning: (await defaultThreads()) >= cores };
}

export interface OnnxStepResult extends StepResult {
  /** Gradients by weight name, in the graph's layout (only with `gradients`). */
  grads: Map<string, Float32Array>;
}

type Slots = Map<string, ort.Tensor>;

function zeros(shape: readonly number[], fill = 0): ort.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', new Float32Array(n).fill(fill), [...shape]);
}

function floats(t: ort.Tensor | undefined, what: string): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`ONNX Runtime returned no float32 ${what}`);
  return t.data;
}

/** A training graph and its session (created when first needed). */
interface Runner {
  graph: TrainingGraph;
  session: ort.InferenceSession | null;
}

export class OnnxTrainer implements TrainEngine {
  readonly info: EngineInfo;
  readonly stepsPerRun: number;
  /** The current weights and optimizer state (graph inputs), and the buffers the next run writes. */
  private cur: Slots = new Map();
  private spare: Slots = new Map();
  private readonly rng: Rng;
  /** −lr, fed to every step (a schedule replaces it between steps). */
  private negLr: ort.Tensor;
  private disposed = false;

  private constructor(
    private readonly plan: TrainPlan,
    /** One step per run (an epoch's last batches, tests); and `stepsPerRun` steps per run. */
    private readonly single: Runner,
    private readonly multi: Runner | null,
    private readonly evalGraph: EvalGraph,
    private readonly evalSession: ort.InferenceSession,
    private readonly sessionOpts: ort.InferenceSession.SessionOptions,
    provider: OnnxProvider,
    readonly threads: number,
    opts: OnnxTrainerOptions,
  ) {
    this.info = { engine: 'onnx', provider };
    this.stepsPerRun = multi ? multi.graph.steps.length : 1;
    this.rng = new Rng(opts.seed);
    this.negLr = new ort.Tensor('float32', new Float32Array([-opts.lr]), []);
    for (const p of single.graph.params) this.spare.set(p.name, zeros(p.graphShape));
    for (const s of single.graph.state) {
      this.cur.set(s.name, zeros(s.shape, s.init));
      this.spare.set(s.name, zeros(s.shape));
    }
    this.push();
  }

  setLearningRate(lr: number): void {
    this.negLr = new ort.Tensor('float32', new Float32Array([-lr]), []);
  }

  /** Plans the model (throws UnsupportedTrainingError naming a layer), builds the graphs and starts a session. */
  static async create(model: tf.LayersModel, opts: OnnxTrainerOptions): Promise<OnnxTrainer> {
    const plan = planTraining(model, opts.trainable);
    const optimizer: OptimizerSpec = opts.optimizer === 'adam' ? { kind: 'adam', ...ADAM_DEFAULTS } : { kind: 'sgd', momentum: opts.momentum };
    const frozen = new Map(plan.params.filter((p) => !p.trainable).map((p) => [p.name, readParam(p)]));
    const k = opts.gradients ? 1 : (opts.microSteps ?? DEFAULT_MICRO_STEPS);
    const base = { optimizer, dropout: opts.training, frozen };
    const single = buildTrainingGraph(plan, { ...base, gradients: opts.gradients ?? false });
    const multi = k > 1 ? buildTrainingGraph(plan, { ...base, microSteps: k }) : null;
    const evalGraph = buildEvalGraph(plan, frozen);
    const provider = resolveProvider(opts.provider ?? 'auto');
    const threads = opts.threads ?? (await defaultThreads());
    const options = sessionOptions(provider, threads, opts.spinning ?? true);
    // the eval session first: a provider that cannot start fails here, before any training graph compiles
    const evalSession = await newOrtSession(evalGraph.bytes, options);
    return new OnnxTrainer(plan, { graph: single, session: null }, multi ? { graph: multi, session: null } : null, evalGraph, evalSession, options, provider, threads, opts);
  }

  /** The one-step training graph (tests read its dropout layers; benchmarks its size). */
  get trainingGraph(): TrainingGraph {
    return this.single.graph;
  }

  private async session(r: Runner): Promise<ort.InferenceSession> {
    if (!r.session) r.session = await newOrtSession(r.graph.bytes, this.sessionOpts);
    return r.session;
  }

  /** The dropout masks of a batch of `n` rows: drawn from the seeded stream unless given (tests, by layer name). */
  private masks(io: MicroStepIo, n: number, given?: ReadonlyMap<string, Float32Array>): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const m of io.masks) {
      const shape = m.shape.map((d) => (typeof d === 'number' ? d : n));
      const fixed = given?.get(m.layer);
      if (fixed) {
        out[m.name] = new ort.Tensor('float32', fixed, shape);
        continue;
      }
      const step = this.plan.steps.find((s) => s.kind === 'dropout' && s.layer === m.layer);
      if (!step || step.kind !== 'dropout') throw new Error(`internal: dropout ${m.layer}`);
      const keep = Math.fround(1 - step.rate);
      const scale = Math.fround(1 / keep);
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      // tfjs: floor(u + keep) / keep, u uniform in [0, 1)
      for (let i = 0; i < data.length; i++) data[i] = Math.fround(this.rng.next() + keep) >= 1 ? scale : 0;
      out[m.name] = new ort.Tensor('float32', data, shape);
    }
    return out;
  }

  private async batchInput(x: tf.Tensor): Promise<ort.Tensor> {
    const data = await x.data();
    if (!(data instanceof Float32Array)) throw new Error('a batch must be float32');
    return new ort.Tensor('float32', data, x.shape);
  }

  /** One run of `r`: each batch a micro-step, weights and state read from `cur` and written into `spare`. */
  private async run(r: Runner, batches: ReadonlyArray<RawBatch>): Promise<OnnxStepResult[]> {
    if (this.disposed) throw new Error('the ONNX trainer was disposed');
    const feeds: Record<string, ort.Tensor> = { [r.graph.negLr]: this.negLr };
    const fetches: Record<string, ort.Tensor | null> = {};
    r.graph.steps.forEach((io, i) => {
      const batch = batches[i];
      if (!batch) throw new Error(`internal: ${r.graph.steps.length} micro-steps, ${batches.length} batches`);
      const n = batch.labels.length;
      feeds[io.x.name] = batch.x;
      feeds[io.labels] = new ort.Tensor('float32', Float32Array.from(batch.labels), [n, 1]);
      feeds[io.sampleWeights] = new ort.Tensor('float32', Float32Array.from(batch.weights), [n, 1]);
      Object.assign(feeds, this.masks(io, n, batch.masks));
      fetches[io.loss] = null;
      fetches[io.probs] = null;
    });
    for (const [name, t] of this.cur) feeds[name] = t;
    for (const [name, t] of this.spare) fetches[nextName(name)] = t;
    for (const g of r.graph.grads.values()) fetches[g] = null;
    const out = await (await this.session(r)).run(feeds, fetches);
    const swap = this.cur;
    this.cur = this.spare;
    this.spare = swap;
    const grads = new Map<string, Float32Array>();
    for (const [w, g] of r.graph.grads) grads.set(w, floats(out[g], `gradient ${w}`).slice());
    return r.graph.steps.map((io) => ({
      loss: floats(out[io.loss], 'loss')[0] ?? Number.NaN,
      probs: floats(out[io.probs], 'probabilities').slice(),
      grads,
    }));
  }

  /** One step on a batch given as raw NHWC (or feature) values; labels and weights per row; masks by layer (tests). */
  async stepValues(x: ort.Tensor, labels: readonly number[], weights: readonly number[], masks?: ReadonlyMap<string, Float32Array>): Promise<OnnxStepResult> {
    const [r] = await this.run(this.single, [{ x, labels, weights, ...(masks ? { masks } : {}) }]);
    if (!r) throw new Error('internal: no step result');
    return r;
  }

  /** Steps on raw batches: `stepsPerRun` per run while there are that many, then one per run. */
  async stepsValues(batches: ReadonlyArray<RawBatch>): Promise<OnnxStepResult[]> {
    const out: OnnxStepResult[] = [];
    let i = 0;
    for (; this.multi && i + this.stepsPerRun <= batches.length; i += this.stepsPerRun) out.push(...(await this.run(this.multi, batches.slice(i, i + this.stepsPerRun))));
    for (; i < batches.length; i++) out.push(...(await this.run(this.single, batches.slice(i, i + 1))));
    return out;
  }

  async steps(batches: ReadonlyArray<Batch>): Promise<StepResult[]> {
    const raw: RawBatch[] = [];
    for (const b of batches) raw.push({ x: await this.batchInput(b.x), labels: b.labels, weights: b.weights });
    return this.stepsValues(raw);
  }

  async predict(count: number, batch: (indices: readonly number[]) => tf.Tensor, batchSize: number, cancelled: () => boolean = () => false): Promise<Float32Array> {
    const out = new Float32Array(count);
    const feeds: Record<string, ort.Tensor> = {};
    for (const p of this.evalGraph.params) {
      const t = this.cur.get(p.name);
      if (!t) throw new Error(`internal: no weight ${p.name}`);
      feeds[p.name] = t;
    }
    for (let start = 0; start < count; start += batchSize) {
      if (cancelled()) break;
      const idx = Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k);
      const x = batch(idx);
      try {
        feeds[this.evalGraph.x.name] = await this.batchInput(x);
      } finally {
        x.dispose();
      }
      const r = await this.evalSession.run(feeds, [this.evalGraph.probs]);
      out.set(floats(r[this.evalGraph.probs], 'probabilities'), start);
    }
    return out;
  }

  /** The current value of a trainable weight, in the graph's layout (tests). */
  weight(name: string): Float32Array {
    return floats(this.cur.get(name), `weight ${name}`);
  }

  pull(): void {
    for (const p of this.single.graph.params) writeParam(p, this.weight(p.name));
  }

  push(): void {
    for (const p of this.single.graph.params) this.cur.set(p.name, new ort.Tensor('float32', readParam(p), p.graphShape));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.cur.clear();
    this.spare.clear();
    for (const r of [this.single, this.multi]) await r?.session?.release();
    await this.evalSession.release();
  }
}
