/**
 * The training graph of a plan: one ONNX model that takes a batch, its labels and per-image loss weights,
 * −lr, the trainable weights, the optimizer state and the dropout masks, and returns the loss, the batch's
 * probabilities, the next weights and the next optimizer state. The eval graph is its forward pass alone
 * (dropout off), for validation and prediction on the weights as they are.
 *
 * The loss is TensorFlow.js's train-loop loss: mean over the batch of w·BCE(y, clip(p, ε, 1−ε)), ε = 1e-7.
 * Its gradient at the logits has the closed form w·(p − y)/B where p is inside the clip and 0 outside
 * (where tfjs's clipByValue passes no gradient).
 */
import { encodeModel, GraphBuilder, type Dim } from '../graph-builder';
import { backward, forward, type GemmForm, type GValue, type LayerContext, type Saved } from './layers';
import { emitUpdates, nextName, stateSlots, type OptimizerSpec, type StateSlot } from './optimizer';
import { findPhasePools, phasePoolBackward, phasePoolForward, type PhasePool } from './phase-pool';
import { stepInputs, stepReaders, type PlanParam, type Step, type TrainPlan } from './plan';

/** ScatterElements' reduction (overlapping max pools) is opset 16; 17 is what every ONNX Runtime ≥ 1.12 runs. */
export const TRAINING_OPSET = 17;
const CLIP_EPS = 1e-7;
const BATCH: Dim = 'batch';

export interface GraphIo {
  name: string;
  shape: Dim[];
}

export interface TrainingGraph {
  bytes: Uint8Array;
  /** Each micro-step's batch inputs and loss/probability outputs, in order. */
  steps: MicroStepIo[];
  negLr: string;
  /** Trainable weights, in plan order: input `name`, output `nextName(name)` (after the last micro-step). */
  params: PlanParam[];
  state: StateSlot[];
  /** Gradient outputs by weight (one-step graphs, when asked for). */
  grads: Map<string, string>;
}

export interface EvalGraph {
  bytes: Uint8Array;
  x: GraphIo;
  params: PlanParam[];
  probs: string;
}

export interface TrainingGraphOptions {
  optimizer: OptimizerSpec;
  /** Dropout active (masks are inputs); off in fine-tuning. */
  dropout: boolean;
  /** Also output each weight's gradient as `grad:<name>` (the parity tests read them). */
  gradients?: boolean;
  /** Values of frozen weights (graph constants), by name. */
  frozen: ReadonlyMap<string, Float32Array>;
  /** Optimizer steps per run (default 1). */
  microSteps?: number;
}

class Emitter implements LayerContext {
  readonly b = new GraphBuilder();
  private readonly consts = new Map<string, string>();
  values = new Map<string, GValue>();
  saved = new Map<Step, Saved>();
  /** Where each trainable weight's and state slot's current value is (graph inputs, then micro-step results). */
  readonly current = new Map<string, string>();
  masks: ReadonlyMap<string, string> = new Map();
  channelSums = new Map<string, string>();
  gemmGrads = new Map<string, GemmForm>();
  /** conv → ReLU → max pool chains trained as one (phase-pool.ts), by each of their three steps. */
  readonly phasePools = new Map<Step, PhasePool>();

  constructor(
    private readonly plan: TrainPlan,
    private readonly frozen: ReadonlyMap<string, Float32Array>,
    readonly poolIndices: boolean,
  ) {}

  /** A fresh forward/backward (one micro-step) on the current weights. */
  beginStep(masks: ReadonlyMap<string, string>): void {
    this.values = new Map();
    this.saved = new Map();
    this.masks = masks;
    this.channelSums = new Map();
    this.gemmGrads = new Map();
  }

  param(name: string): string {
    const p = this.plan.params.find((q) => q.name === name);
    if (!p) throw new Error(`internal: no weight ${name}`);
    if (p.trainable) return this.current.get(name) ?? name;
    const key = `param:${name}`;
    let c = this.consts.get(key);
    if (c === undefined) {
      const data = this.frozen.get(name);
      if (!data) throw new Error(`the frozen weight ${name} has no value`);
      c = this.b.floats(name.replace(/[^A-Za-z0-9_]/g, '_'), p.graphShape, data);
      this.consts.set(key, c);
    }
    return c;
  }

  ints(values: number[]): string {
    const key = `i:${values.join(',')}`;
    let c = this.consts.get(key);
    if (c === undefined) {
      c = this.b.int64s(`ints_${values.join('_').replace(/-/g, 'm')}`, values);
      this.consts.set(key, c);
    }
    return c;
  }

  scalar(value: number): string {
    const key = `f:${value}`;
    let c = this.consts.get(key);
    if (c === undefined) {
      c = this.b.floats('k', [], new Float32Array([value]));
      this.consts.set(key, c);
    }
    return c;
  }

  mask(layer: string): string | null {
    return this.masks.get(layer) ?? null;
  }

  value(key: string): GValue {
    const v = this.values.get(key);
    if (!v) throw new Error(`internal: value ${key} used before it was produced`);
    return v;
  }

  /** The input, NCHW inside the graph, then every step; returns the probabilities' name. */
  forwardAll(xName: string): string {
    const { plan, b } = this;
    const x = plan.input.rank === 4 ? b.node('Transpose', [xName], 'x_nchw', { perm: [0, 3, 1, 2] }) : xName;
    const inShape = plan.input.rank === 4 ? [plan.input.shape[2] ?? 0, plan.input.shape[0] ?? 0, plan.input.shape[1] ?? 0] : plan.input.shape;
    this.values.set('input', { name: x, shape: inShape });
    for (const step of plan.steps) {
      const pp = this.phasePools.get(step);
      if (pp && step !== pp.conv) continue;
      if (pp) {
        const s = phasePoolForward(this, pp, this.value(step.input));
        this.saved.set(pp.pool, s);
        this.values.set(pp.pool.output, s.y);
        continue;
      }
      const s = forward(this, step, stepInputs(step).map((k) => this.value(k)));
      this.saved.set(step, s);
      this.values.set(step.output, s.y);
    }
    const last = plan.steps[plan.steps.length - 1];
    if (!last) throw new Error('internal: empty plan');
    return this.value(last.output).name;
  }
}

function dims(shape: number[], batch: Dim = BATCH): Dim[] {
  return [batch, ...shape];
}

function inputShape(plan: TrainPlan): Dim[] {
  return dims(plan.input.shape);
}

/** Values whose gradient some trainable weight needs: outputs of steps at or after the first weight that trains. */
function needsGrad(plan: TrainPlan): Set<string> {
  const trains = new Set(plan.params.filter((p) => p.trainable).map((p) => p.name));
  const need = new Set<string>();
  for (const s of plan.steps) {
    const own = stepParams(s).some((p) => trains.has(p));
    if (own || stepInputs(s).some((k) => need.has(k))) need.add(s.output);
  }
  return need;
}

/** The weights a step's gradient can reach. */
function stepParams(s: Step): string[] {
  switch (s.kind) {
    case 'conv':
    case 'dense':
      return [s.kernel, ...(s.bias !== null ? [s.bias] : [])];
    case 'depthwise':
      return [s.kernel];
    case 'batchNorm':
      return [s.gamma, s.beta].filter((p): p is string => p !== null);
    default:
      return [];
  }
}

/**
 * ReLU steps whose output only a max pool reads: the pool's backward masks its (4× smaller) gradient by
 * where the window's maximum is positive, which is where the ReLU passed the picked element; the ReLU's
 * own backward is then the identity. Returns those ReLU steps and marks the pools.
 */
function absorbReluIntoPool(plan: TrainPlan, saved: ReadonlyMap<Step, Saved>): Set<Step> {
  const readers = stepReaders(plan.steps);
  const out = new Set<Step>();
  for (const s of plan.steps) {
    if (s.kind !== 'activation' || s.activation !== 'relu') continue;
    const r = readers.get(s.output) ?? [];
    const pool = r[0];
    if (r.length !== 1 || !pool || pool.kind !== 'maxPool') continue;
    const ps = saved.get(pool);
    if (!ps) continue;
    ps.reluBelow = true;
    out.add(s);
  }
  return out;
}

/** dL/dlogits: w·(p − y)/B inside the clip, 0 outside; and the loss itself. */
function emitLoss(e: Emitter, probs: string, labels: string, weights: string, lossName: string): { loss: string; dLogits: string } {
  const { b } = e;
  const lo = e.scalar(CLIP_EPS);
  const hi = e.scalar(1 - CLIP_EPS);
  const one = e.scalar(1);
  const pc = b.node('Clip', [probs, lo, hi], 'p_clipped');
  const logP = b.node('Log', [pc], 'log_p');
  const log1mP = b.node('Log', [b.node('Sub', [one, pc], 'one_minus_p')], 'log_1mp');
  const pos = b.node('Mul', [labels, logP], 'bce_pos');
  const neg = b.node('Mul', [b.node('Sub', [one, labels], 'one_minus_y'), log1mP], 'bce_neg');
  const bce = b.node('Neg', [b.node('Add', [pos, neg], 'bce_sum')], 'bce');
  const loss = b.node('ReduceMean', [b.node('Mul', [bce, weights], 'bce_weighted')], lossName, { keepdims: 0 }, true);
  const inside = b.node('Cast', [b.node('And', [b.node('GreaterOrEqual', [probs, lo], 'p_ge_lo'), b.node('LessOrEqual', [probs, hi], 'p_le_hi')], 'p_inside')], 'p_inside_f', { to: 1 });
  const count = b.node('Cast', [b.node('Shape', [probs], 'p_shape', { start: 0, end: 1 })], 'batch_f', { to: 1 });
  const diff = b.node('Mul', [b.node('Mul', [b.node('Sub', [probs, labels], 'p_minus_y'), weights], 'dl_weighted'), inside], 'dl_inside');
  return { loss, dLogits: b.node('Div', [diff, count], 'd_logits') };
}

/** Graph inputs and outputs of one micro-step. */
export interface MicroStepIo {
  x: GraphIo;
  labels: string;
  sampleWeights: string;
  masks: Array<{ layer: string; name: string; shape: Dim[] }>;
  loss: string;
  probs: string;
}

/** The forward pass, the loss and the backward pass of one micro-step; returns each trainable weight's gradient. */
function emitMicroStep(e: Emitter, plan: TrainPlan, io: MicroStepIo, trainable: PlanParam[]): Map<string, string> {
  const { b } = e;
  const probsValue = e.forwardAll(io.x.name);
  b.node('Identity', [probsValue], io.probs, {}, true);
  const { dLogits } = emitLoss(e, probsValue, io.labels, io.sampleWeights, io.loss);
  const need = needsGrad(plan);
  const absorbed = absorbReluIntoPool(plan, e.saved);
  const trains = (name: string): boolean => trainable.some((p) => p.name === name);
  const partial = new Map<string, string[]>([[plan.logits, [dLogits]]]);
  const grads = new Map<string, string>();
  // the final sigmoid is folded into the loss's gradient
  for (const step of plan.steps.slice(0, -1).reverse()) {
    const parts = partial.get(step.output);
    if (!parts || parts.length === 0) continue;
    const dy = b.tree('Add', parts, `${step.layer}_dsum`);
    const saved = e.saved.get(step);
    if (!saved) throw new Error(`internal: ${step.layer} has no forward`);
    const inputs = stepInputs(step);
    const pp = e.phasePools.get(step);
    if (pp) {
      // the pool of a chain: its conv's gradients; nothing below the conv asks for one
      for (const [w, g] of phasePoolBackward(e, pp, saved, dy, trains)) grads.set(w, g);
      continue;
    }
    const r = absorbed.has(step) ? { dxs: [dy], params: [] } : backward(e, step, saved, dy, inputs.map((k) => need.has(k)), trains);
    for (const [w, g] of r.params) grads.set(w, g);
    // a value several steps read gets the sum of their gradients (the Sum above, when its turn comes)
    inputs.forEach((k, i) => {
      const dx = r.dxs[i];
      if (dx !== null && dx !== undefined) partial.set(k, [...(partial.get(k) ?? []), dx]);
    });
  }
  const missing = trainable.filter((p) => !grads.has(p.name));
  if (missing.length > 0) throw new Error(`internal: no gradient for ${missing.map((p) => p.name).join(', ')}`);
  return grads;
}

/**
 * `microSteps` optimizer steps in one graph, one batch each, every step on the weights the previous one
 * left: the same arithmetic as as many runs of a one-step graph, with the weights crossing into JavaScript
 * once per run instead of once per step (onnxruntime-node copies every output it returns).
 */
export function buildTrainingGraph(plan: TrainPlan, opts: TrainingGraphOptions): TrainingGraph {
  const k = opts.microSteps ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`microSteps must be a positive integer; received ${k}`);
  if (opts.gradients && k > 1) throw new Error('gradients are exposed by one-step graphs only');
  const e = new Emitter(plan, opts.frozen, true);
  const { b } = e;
  const trainable = plan.params.filter((p) => p.trainable);
  if (trainable.length === 0) throw new Error(`${plan.modelName}: no trainable weights`);
  const need = needsGrad(plan);
  for (const pp of findPhasePools(plan.steps, (v) => need.has(v))) for (const step of [pp.conv, pp.relu, pp.pool]) e.phasePools.set(step, pp);
  const state = stateSlots(opts.optimizer, trainable);
  const suffix = (i: number): string => (k === 1 ? '' : `:${i}`);
  const steps: MicroStepIo[] = Array.from({ length: k }, (_, i) => ({
    x: { name: `x${suffix(i)}`, shape: dims(plan.input.shape, `batch${suffix(i)}`) },
    labels: `labels${suffix(i)}`,
    sampleWeights: `sample_weights${suffix(i)}`,
    masks: opts.dropout ? plan.dropouts.map((d) => ({ layer: d.layer, name: `dropout:${d.layer}${suffix(i)}`, shape: dims(d.shape, `batch${suffix(i)}`) })) : [],
    loss: `loss${suffix(i)}`,
    probs: `probs${suffix(i)}`,
  }));
  for (const io of steps) {
    const batch = io.x.shape[0] ?? BATCH;
    b.addInput(io.x.name, io.x.shape);
    b.addInput(io.labels, [batch, 1]);
    b.addInput(io.sampleWeights, [batch, 1]);
    for (const m of io.masks) b.addInput(m.name, m.shape);
  }
  b.addInput('neg_lr', []);
  for (const p of trainable) b.addInput(p.name, p.graphShape);
  for (const s of state) b.addInput(s.name, s.shape);
  for (const name of [...trainable.map((p) => p.name), ...state.map((s) => s.name)]) e.current.set(name, name);

  let grads = new Map<string, string>();
  steps.forEach((io, i) => {
    e.beginStep(new Map(io.masks.map((m) => [m.layer, m.name])));
    grads = emitMicroStep(e, plan, io, trainable);
    const last = i === k - 1;
    emitUpdates(
      {
        b,
        scalar: (v) => e.scalar(v),
        negLr: 'neg_lr',
        current: (name) => e.current.get(name) ?? name,
        next: (name) => (last ? { out: nextName(name), exact: true } : { out: `${name}_after${i}`, exact: false }),
        advance: (name, value) => e.current.set(name, value),
        gemmForm: (g) => e.gemmGrads.get(g),
      },
      opts.optimizer,
      trainable.map((p) => [p.name, grads.get(p.name) ?? '']),
    );
    const batch = io.x.shape[0] ?? BATCH;
    b.addOutput(io.loss, []);
    b.addOutput(io.probs, [batch, 1]);
  });
  for (const p of trainable) b.addOutput(nextName(p.name), p.graphShape);
  for (const s of state) b.addOutput(nextName(s.name), s.shape);
  const gradOut = new Map<string, string>();
  if (opts.gradients) {
    for (const p of trainable) {
      const name = b.node('Identity', [grads.get(p.name) ?? ''], `grad:${p.name}`, {}, true);
      b.addOutput(name, p.graphShape);
      gradOut.set(p.name, name);
    }
  }
  // gradients an optimizer folded into its own Gemm (and their inputs) are left unread
  b.dropUnused();
  const proto = b.model(`${plan.modelName}_train`, `${k} training step(s) of ${plan.modelName} (${opts.optimizer.kind}) by Mask Studio`, {}, TRAINING_OPSET);
  return { bytes: encodeModel(proto), steps, negLr: 'neg_lr', params: trainable, state, grads: gradOut };
}

/** The forward pass alone (inference mode), on the trainable weights as inputs. */
export function buildEvalGraph(plan: TrainPlan, frozen: ReadonlyMap<string, Float32Array>): EvalGraph {
  const e = new Emitter(plan, frozen, false);
  const { b } = e;
  const trainable = plan.params.filter((p) => p.trainable);
  b.addInput('x', inputShape(plan));
  for (const p of trainable) b.addInput(p.name, p.graphShape);
  const probs = b.node('Identity', [e.forwardAll('x')], 'probs', {}, true);
  b.addOutput(probs, [BATCH, 1]);
  const proto = b.model(`${plan.modelName}_eval`, `forward pass of ${plan.modelName} by Mask Studio`, {}, TRAINING_OPSET);
  return { bytes: encodeModel(proto), x: { name: 'x', shape: inputShape(plan) }, params: trainable, probs };
}
