/**
 * Keras's published ImageNet weights without the classifier top, as keras/src/applications/*.py name them
 * (file name, URL on Keras's storage, `file_hash` MD5), and the per-user cache every library shares.
 */
import { join, resolve } from 'node:path';
import { dataHome } from '../../library';
import type { Preprocessing, TransferModelName } from '../models/types';

export interface KerasWeightsFile {
  model: TransferModelName;
  fileName: string;
  url: string;
  /** Keras's published MD5 (`file_hash`), hex. */
  md5: string;
  /** The `preprocess_input` mode the weights were trained with. */
  preprocessing: Preprocessing;
}

const STORAGE = 'https://storage.googleapis.com/tensorflow/keras-applications';

function entry(model: TransferModelName, folder: string, fileName: string, md5: string, preprocessing: Preprocessing): KerasWeightsFile {
  return { model, fileName, url: `${STORAGE}/${folder}/${fileName}`, md5, preprocessing };
}

/** Sources: vgg19.py, inception_v3.py, inception_resnet_v2.py, resnet.py (WEIGHTS_HASHES['resnet50'][1]), xception.py. */
export const KERAS_WEIGHTS: Readonly<Record<TransferModelName, KerasWeightsFile>> = {
  vgg19: entry('vgg19', 'vgg19', 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5', '253f8cb515780f3b799900260a226db6', 'caffe'),
  inception_v3: entry(
    'inception_v3',
    'inception_v3',
    'inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5',
    'bcbd6486424b2319ff4ef7d526e38f63',
    'tf',
  ),
  inception_resnet_v2: entry(
    'inception_resnet_v2',
    'inception_resnet_v2',
    'inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
    'd19885ff4a710c122648d3b5c3b684e4',
    'tf',
  ),
  resnet50: entry('resnet50', 'resnet', 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5', '4d473c1dd8becc155b73f8504c6f6626', 'caffe'),
  xception: entry('xception', 'xception', 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5', 'b0042744bf5b25fce3cb969f33bebb97', 'tf'),
};

/** The weights cache: MASK_STUDIO_WEIGHTS_DIR, else `weights/` in the platform's data folder for Mask Studio. */
export function weightsDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env['MASK_STUDIO_WEIGHTS_DIR'];
  return override ? resolve(override) : join(dataHome(), 'weights');
}

/** `<cache>/<model>/<Keras file name>`; imported model.json files go to `<cache>/<model>/tfjs/`. */
export function kerasFilePath(model: TransferModelName, dir = weightsDir()): string {
  return join(dir, model, KERAS_WEIGHTS[model].fileName);
}

export function tfjsDirPath(model: TransferModelName, dir = weightsDir()): string {
  return join(dir, model, 'tfjs');
}

/** The command that gets a model's weights, for messages. */
export function fetchHint(model: TransferModelName): string {
  return (
    `run 'mask-studio weights fetch ${model}', or offline copy ${KERAS_WEIGHTS[model].fileName} ` +
    `(from ${KERAS_WEIGHTS[model].url}) here and run 'mask-studio weights import ${model} FILE'`
  );
}
