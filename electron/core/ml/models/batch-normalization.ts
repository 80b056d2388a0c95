/**
 * tfjs 4.22's BatchNormalization, with two behaviours changed to Keras's:
 * - Keras's InceptionV3 and InceptionResNetV2 use `scale=False`. tfjs's training path reads `gamma`
 *   regardless ("Cannot read properties of undefined (reading 'read')") and, even for frozen layers,
 *   tf.batchNorm's gradient fails on the missing input, so those two models could not be trained or
 *   fine-tuned at all. Here both paths work without gamma/beta.
 * - A layer with `trainable = false` runs in inference mode, as in Keras since TF 2: it uses and keeps
 *   its moving statistics. tfjs normalises a frozen layer with the batch's statistics and overwrites its
 *   moving mean and variance during fit, which quietly destroys a frozen ImageNet base.
 * Its className stays 'BatchNormalization' (registered over tfjs's entry) so model.json files stay
 * standard: loaded here they get this class, loaded elsewhere tfjs's own, identical at inference.
 */
import * as tf from '@tensorflow/tfjs';

type StockBatchNormalization = ReturnType<typeof tf.layers.batchNormalization>;
export type BatchNormalizationArgs = NonNullable<Parameters<typeof tf.layers.batchNormalization>[0]>;
type Kwargs = Parameters<StockBatchNormalization['call']>[1];

// tfjs exports a factory, not the class; the class is the factory's product's constructor.
const Stock = tf.layers.batchNormalization({}).constructor as (new (args?: BatchNormalizationArgs) => StockBatchNormalization) & {
  className: string;
  fromConfig: typeof tf.serialization.Serializable.fromConfig;
};

export class KerasBatchNormalization extends Stock {
  static override className = 'BatchNormalization';
  private readonly bnAxis: number;
  private readonly bnMomentum: number;
  private readonly bnEpsilon: number;
  private readonly affine: boolean;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.bnAxis = args.axis ?? -1;
    this.bnMomentum = args.momentum ?? 0.99;
    this.bnEpsilon = args.epsilon ?? 1e-3;
    this.affine = (args.scale ?? true) && (args.center ?? true);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const training = kwargs['training'] === true && this.trainable;
    if (this.affine) return super.call(inputs, { ...kwargs, training });
    return this.normalizeWithoutAffine(inputs, training);
  }

  private variable(name: string): tf.LayerVariable | undefined {
    // built inside apply() the name is scoped (`bn_1/moving_mean`), built directly it is not
    return this.weights.find((w) => w.originalName === name || w.originalName.endsWith(`/${name}`));
  }

  /**
   * tfjs's two paths (moving statistics; or batch moments plus moving-average updates) with gamma and/or
   * beta absent. tf.batchNorm's gradient saves all its inputs and fails on a missing one, in inference
   * mode too while fit records a tape, so the absent ones are passed as their neutral constants.
   */
  private normalizeWithoutAffine(inputs: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x === undefined) throw new Error(`${this.name}: no input`);
    const movingMean = this.variable('moving_mean');
    const movingVariance = this.variable('moving_variance');
    if (movingMean === undefined || movingVariance === undefined) throw new Error(`${this.name}: not built`);
    return tf.tidy(() => {
      const axis = this.bnAxis < 0 ? this.bnAxis + x.rank : this.bnAxis;
      const shape = x.shape.map((d, i) => (i === axis ? d : 1));
      const fit = (t: tf.Tensor): tf.Tensor => (axis === x.rank - 1 ? t : tf.reshape(t, shape));
      let mean = movingMean.read();
      let variance = movingVariance.read();
      if (training) {
        ({ mean, variance } = tf.moments(x, [...Array(x.rank).keys()].filter((i) => i !== axis)));
      }
      const beta = this.variable('beta')?.read() ?? tf.zerosLike(mean);
      const gamma = this.variable('gamma')?.read() ?? tf.onesLike(mean);
      const y = tf.batchNorm(x, fit(mean), fit(variance), fit(beta), fit(gamma), this.bnEpsilon);
      if (training) {
        for (const [v, value] of [
          [movingMean, mean],
          [movingVariance, variance],
        ] as const) {
          tf.tidy(() => {
            const old = v.read();
            v.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - this.bnMomentum)));
          });
        }
      }
      return y;
    });
  }
}

tf.serialization.registerClass(KerasBatchNormalization);

export function batchNormalization(args: BatchNormalizationArgs): KerasBatchNormalization {
  return new KerasBatchNormalization(args);
}
