/**
 * Keras's CustomScaleLayer from inception_resnet_v2.py: `inputs[0] + inputs[1] * scale`, the scaled
 * residual sum of the Inception-ResNet blocks. Registered with tfjs's serialization so a saved model
 * (model.json) that contains it loads again; importing this module is enough to register it.
 */
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface CustomScaleLayerArgs extends LayerArgs {
  scale: number;
}

export class CustomScaleLayer extends tf.layers.Layer {
  static readonly className = 'CustomScaleLayer';
  readonly scale: number;

  constructor(args: CustomScaleLayerArgs) {
    super(args);
    if (!Number.isFinite(args.scale)) {
      throw new RangeError(`CustomScaleLayer: scale must be a finite number; received ${String(args.scale)}`);
    }
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const first = inputShape[0];
    if (Array.isArray(first)) return first;
    throw new Error(`${this.name}: expects two inputs (shortcut, residual)`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) {
        throw new Error(`${this.name}: expects two inputs (shortcut, residual)`);
      }
      const [shortcut, residual] = inputs as [tf.Tensor, tf.Tensor];
      return tf.add(shortcut, tf.mul(residual, this.scale));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

tf.serialization.registerClass(CustomScaleLayer);
