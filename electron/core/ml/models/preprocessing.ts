/** Keras's `preprocess_input` modes, on RGB pixels in [0, 255] (NHWC). See `Preprocessing` in types.ts. */
import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from './types';

/** ImageNet channel means in BGR order, as keras/src/applications/imagenet_utils.py subtracts them. */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

export function preprocess(images: tf.Tensor4D, mode: Preprocessing): tf.Tensor4D {
  return tf.tidy(() => {
    const x = images.toFloat();
    switch (mode) {
      case 'caffe':
        return tf.sub(tf.reverse(x, -1), tf.tensor1d([...CAFFE_MEAN_BGR]));
      case 'tf':
        return tf.sub(tf.div(x, 127.5), 1);
      case 'unit':
        return tf.div(x, 255);
    }
  });
}
