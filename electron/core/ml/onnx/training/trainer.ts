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
import type { EngineInfo, OptimizerOptions, StepResult, TrainEngine } from '../../train/engine';
import { defaultThreads, resolveProvider, sessionOptions, type OnnxProvider } from '../runtime';
import { buildEvalGraph, buildTrainingGraph, type EvalGraph, type TrainingGraph } from './build';
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
  /** Also return each weight's gradient from a step (tests). */
  gradients?: boolean;
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

export class OnnxTrainer implements TrainEngine {
  readonly info: EngineInfo;
  /** The current weights and optimizer state (graph inputs), and the buffers the next step writes. */
  private cur: Slots = new Map();
  private spare: Slots = new Map();
  private readonly rng: Rng;
  private readonly negLr: ort.Tensor;
  private disposed = false;

  private constructor(
    private readonly plan: TrainPlan,
    private readonly graph: TrainingGraph,
    private readonly evalGraph: EvalGraph,
    private readonly trainSession: ort.InferenceSession,
    private readonly evalSession: ort.InferenceSession,
    provider: OnnxProvider,
    readonly threads: number,
    opts: OnnxTrainerOptions,
  ) {
    this.info = { engine: 'onnx', provider };
    this.rng = new Rng(opts.seed);
    this.negLr = new ort.Tensor('float32', new Float32Array([-opts.lr]), []);
    for (const p of graph.params) {
      this.spare.set(p.name, zeros(p.graphShape));
    }
    for (const s of graph.state) {
      this.cur.set(s.name, zeros(s.shape, s.init));
      this.spare.set(s.name, zeros(s.shape));
    }
    this.push();
  }

  /** Plans the model (throws UnsupportedTrainingError naming a layer), builds both graphs and their sessions. */
  static async create(model: tf.LayersModel, opts: OnnxTrainerOptions): Promise<OnnxTrainer> {
    const plan = planTraining(model, opts.trainable);
    const optimizer: OptimizerSpec = opts.optimizer === 'adam' ? { kind: 'adam', ...ADAM_DEFAULTS } : { kind: 'sgd', momentum: opts.momentum };
    const frozen = new Map(plan.params.filter((p) => !p.trainable).map((p) => [p.name, readParam(p)]));
    const graph = buildTrainingGraph(plan, { optimizer, dropout: opts.training, gradients: opts.gradients ?? false, frozen });
    const evalGraph = buildEvalGraph(plan, frozen);
    const provider = resolveProvider(opts.provider ?? 'auto');
    const threads = opts.threads ?? (await defaultThreads());
    const options = sessionOptions(provider, threads, opts.spinning ?? true);
    const trainSession = await ort.InferenceSession.create(graph.bytes, options);
    let evalSession: ort.InferenceSession;
    try {
      evalSession = await ort.InferenceSession.create(evalGraph.bytes, options);
    } catch (err) {
      await trainSession.release();
      throw err;
    }
    return new OnnxTrainer(plan, graph, evalGraph, trainSession, evalSession, provider, threads, opts);
  }

  /** The training graph (tests read its dropout layers; benchmarks its size). */
  get trainingGraph(): TrainingGraph {
    return this.graph;
  }

  /** The dropout masks of a batch of `n`: drawn from the seeded stream unless given (tests, by layer name). */
  private masks(n: number, given?: ReadonlyMap<string, Float32Array>): Record<string, ort.Tensor> {
    const out: Record<string, ort.Tensor> = {};
    for (const m of this.graph.masks) {
      const fixed = given?.get(m.layer);
      if (fixed) {
        out[m.name] = new ort.Tensor('float32', fixed, m.shape.map((d) => (typeof d === 'number' ? d : n)));
        continue;
      }
      const d = this.plan.dropouts.find((q) => q.layer === m.layer);
      const rate = this.plan.steps.find((s) => s.kind === 'dropout' && s.layer === m.layer);
      if (!d || !rate || rate.kind !== 'dropout') throw new Error(`internal: dropout ${m.layer}`);
      const keep = Math.fround(1 - rate.rate);
      const scale = Math.fround(1 / keep);
      const size = n * d.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size);
      // tfjs: floor(u + keep) / keep, u uniform in [0, 1)
      for (let i = 0; i < size; i++) data[i] = Math.fround(this.rng.next() + keep) >= 1 ? scale : 0;
      out[m.name] = new ort.Tensor('float32', data, [n, ...d.shape]);
    }
    return out;
  }

  private async batchInput(x: tf.Tensor): Promise<ort.Tensor> {
    const data = await x.data();
    if (!(data instanceof Float32Array)) throw new Error('a batch must be float32');
    return new ort.Tensor('float32', data, x.shape);
  }

  /** One step on a batch given as raw NHWC (or feature) values; labels and weights per row. */
  async stepValues(x: ort.Tensor, labels: readonly number[], weights: readonly number[], masks?: ReadonlyMap<string, Float32Array>): Promise<OnnxStepResult> {
    if (this.disposed) throw new Error('the ONNX trainer was disposed');
    const n = labels.length;
    const feeds: Record<string, ort.Tensor> = {
      [this.graph.x.name]: x,
      [this.graph.labels]: new ort.Tensor('float32', Float32Array.from(labels), [n, 1]),
      [this.graph.sampleWeights]: new ort.Tensor('float32', Float32Array.from(weights), [n, 1]),
      [this.graph.negLr]: this.negLr,
      ...this.masks(n, masks),
    };
    const fetches: Record<string, ort.Tensor | null> = { [this.graph.loss]: null, [this.graph.probs]: null };
    for (const [name, t] of this.cur) feeds[name] = t;
    for (const [name, t] of this.spare) fetches[nextName(name)] = t;
    for (const g of this.graph.grads.values()) fetches[g] = null;
    const out = await this.trainSession.run(feeds, fetches);
    const swap = this.cur;
    this.cur = this.spare;
    this.spare = swap;
    const grads = new Map<string, Float32Array>();
    for (const [w, g] of this.graph.grads) grads.set(w, floats(out[g], `gradient ${w}`).slice());
    return { loss: floats(out[this.graph.loss], 'loss')[0] ?? Number.NaN, probs: floats(out[this.graph.probs], 'probabilities').slice(), grads };
  }

  async step(x: tf.Tensor, labels: readonly number[], weights: readonly number[]): Promise<StepResult> {
    return this.stepValues(await this.batchInput(x), labels, weights);
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
    for (const p of this.graph.params) writeParam(p, this.weight(p.name));
  }

  push(): void {
    for (const p of this.graph.params) this.cur.set(p.name, new ort.Tensor('float32', readParam(p), p.graphShape));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.cur.clear();
    this.spare.clear();
    await this.trainSession.release();
    await this.evalSession.release();
  }
}
