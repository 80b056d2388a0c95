/**
 * A model on disk in TensorFlow.js layers format (`model.json` + `weights.bin`), the format `model.save`
 * writes. Node's `file://` handler lives in tfjs-node, which is optional, so the files are written here.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../shared/errors';
import './models'; // registers the custom layers a saved model may name

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const bytes = data === undefined ? new Uint8Array(0) : new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]));
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      // weights first, then the json that points at them: a reader never sees a json without its weights
      const tmpBin = join(dir, `${WEIGHTS_BIN}.tmp`);
      const tmpJson = join(dir, `${MODEL_JSON}.tmp`);
      await writeFile(tmpBin, bytes);
      await rename(tmpBin, join(dir, WEIGHTS_BIN));
      await writeFile(tmpJson, JSON.stringify(json));
      await rename(tmpJson, join(dir, MODEL_JSON));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.byteLength } };
    }),
  );
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  let json: { modelTopology: object; weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }> };
  let bin: Buffer;
  try {
    json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as typeof json;
    bin = await readFile(join(dir, WEIGHTS_BIN));
  } catch (err) {
    throw new AppError('NOT_FOUND', `no saved model in ${dir} (${(err as Error).message})`);
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
}
