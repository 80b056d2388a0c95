/**
 * What the training loop asks of an engine: optimizer steps on batches, probabilities for a split, and
 * keeping the tf.layers model in step with its weights when the loop needs the model (a checkpoint, the
 * best epoch's snapshot). TensorFlow.js is one engine (the model's own variables and a tf.train optimizer);
 * ONNX Runtime running a training graph is the other (onnx/training/trainer.ts), imported only when chosen
 * so a machine where its binary cannot load still trains on TensorFlow.js.
 */
import * as tf from '@tensorflow/tfjs';
import type { EnginePref } from '../../../../shared/names';
import { Rng } from '../../random';
import { forward, predictProbabilities } from '../inference/probabilities';
import type { Batch, EngineInfo, OptimizerOptions, StepResult, TrainEngine } from '../train-engine';

export type { Batch, EngineInfo, OptimizerOptions, StepResult, TrainEngine };

const EPS = 1e-7;

function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  const vars: tf.Variable[] = [];
  for (const w of model.trainableWeights) {
    const v = w.read();
    if (!(v instanceof tf.Variable)) throw new Error(`weight ${w.name} is not backed by a variable`);
    vars.push(v);
  }
  return vars;
}

/**
 * Runs `fn` with Math.random drawing from `rng`. TensorFlow.js draws a dropout mask's seed from Math.random
 * when the layer has none (a seeded layer would draw the same mask every batch). The training step is
 * synchronous, so within it nothing else in the thread can draw from this stream or interleave with it:
 * the masks depend on the run's seed and nothing else, in a worker or in-process alike.
 */
function withRandom<T>(rng: Rng, fn: () => T): T {
  const saved = Math.random;
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

/** tf.train.adam whose learning rate a schedule can move (its moments and step count are kept). */
export class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

/**
 * TensorFlow.js: the model's variables, minimised by tf.train.momentum (Nesterov off) or tf.train.adam;
 * dropout masks drawn from a stream seeded with `dropoutSeed`.
 */
export class TfjsEngine implements TrainEngine {
  readonly info: EngineInfo = { engine: 'tfjs', provider: tf.getBackend() };
  readonly stepsPerRun = 1;
  private readonly optimizer: tf.MomentumOptimizer | ScheduledAdam;
  private readonly vars: tf.Variable[];
  private readonly dropoutRng: Rng;

  constructor(
    private readonly model: tf.LayersModel,
    opts: OptimizerOptions,
    private readonly training: boolean,
    dropoutSeed: number,
  ) {
    // tf.train.adam's own defaults (β1 0.9, β2 0.999, ε from the backend)
    this.optimizer = opts.optimizer === 'adam' ? new ScheduledAdam(opts.lr, 0.9, 0.999) : new tf.MomentumOptimizer(opts.lr, opts.momentum);
    this.vars = trainableVariables(model);
    this.dropoutRng = new Rng(dropoutSeed);
  }

  setLearningRate(lr: number): void {
    this.optimizer.setLearningRate(lr);
  }

  async steps(batches: readonly Batch[]): Promise<StepResult[]> {
    const out: StepResult[] = [];
    for (const b of batches) out.push(await this.step(b.x, b.labels, b.weights));
    return out;
  }

  async step(x: tf.Tensor, labels: readonly number[], weights: readonly number[]): Promise<StepResult> {
    const n = labels.length;
    const held: { probs: tf.Tensor | null } = { probs: null };
    const cost: tf.Scalar = withRandom(this.dropoutRng, () => tf.tidy(() => {
      const y = tf.tensor2d([...labels], [n, 1]);
      const w = tf.tensor2d([...weights], [n, 1]);
      const c = this.optimizer.minimize(
        () => {
          const p = forward(this.model, x, this.training);
          held.probs = tf.keep(p);
          const pc = tf.clipByValue(p, EPS, 1 - EPS);
          const bce = tf.neg(tf.add(tf.mul(y, tf.log(pc)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pc)))));
          return tf.mean(tf.mul(bce, w)) as tf.Scalar;
        },
        true,
        this.vars,
      );
      if (!c) throw new Error('optimizer returned no loss');
      return c;
    }));
    const loss = (await cost.data())[0] ?? Number.NaN;
    cost.dispose();
    let probs: Float32Array = new Float32Array(0);
    if (held.probs !== null) {
      probs = (await held.probs.data()) as Float32Array;
      held.probs.dispose();
    }
    return { loss, probs };
  }

  predict(count: number, batch: (indices: readonly number[]) => tf.Tensor, batchSize: number, cancelled?: () => boolean): Promise<Float32Array> {
    return predictProbabilities(this.model, count, batch, batchSize, cancelled);
  }

  pull(): void {}

  push(): void {}

  async dispose(): Promise<void> {
    this.optimizer.dispose();
  }
}

export interface TrainEngineChoice {
  engine: TrainEngine;
  /** Why 'auto' fell back to TensorFlow.js (null when it did not). */
  fallback: string | null;
}

export interface TrainEngineOptions extends OptimizerOptions {
  /** Dropout active (end-to-end training); off in fine-tuning. */
  training: boolean;
  /** Seeds the dropout masks (either engine's). */
  seed: number;
}

/**
 * The engine a training run steps with. 'onnx' fails with what stopped it (a layer the training graph has no
 * gradient for, a provider that would not start); 'auto' falls back to TensorFlow.js and says why.
 */
export async function createTrainEngine(engine: EnginePref, model: tf.LayersModel, opts: TrainEngineOptions): Promise<TrainEngineChoice> {
  const tfjs = (): TrainEngine => new TfjsEngine(model, opts, opts.training, opts.seed);
  if (engine === 'tfjs') return { engine: tfjs(), fallback: null };
  try {
    const { OnnxTrainer, trainingThreads } = await import('../onnx/training/trainer');
    return { engine: await OnnxTrainer.create(model, { ...opts, ...(await trainingThreads()) }), fallback: null };
  } catch (err) {
    if (engine === 'onnx') throw err;
    const why = err instanceof Error ? err.message : String(err);
    return { engine: tfjs(), fallback: `ONNX Runtime unavailable: ${why}` };
  }
}
