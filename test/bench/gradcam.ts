/**
 * `npm run bench -- gradcam [--models scratch,resnet50] [--images 3] [--backend wasm|cpu]`: seconds per
 * Grad-CAM explanation (forward to the cut, gradient through the head, overlay PNG) per architecture at
 * its default input size, after one warm-up image. Weights are random (speed does not depend on them);
 * photos are the real Spot the Mask images when ../shared holds them, else synthetic faces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { batchTensor } from '../../electron/core/ml/augment';
import { decodeRgb } from '../../electron/core/ml/pixels';
import { camModel, gradCam } from '../../electron/core/ml/explain/gradcam';
import { overlayCam } from '../../electron/core/ml/explain/overlay';
import { ARCHITECTURES, buildClassifier, isModelName } from '../../electron/core/ml/models';
import type { ModelName } from '../../electron/core/ml/models/types';
import { chooseBackend } from '../../electron/core/ml/backend/train-backend';
import { realData } from '../helpers';
import { labelledRows, makeFaces } from '../integration/ml/train-helpers';

function opt(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

export async function run(argv: readonly string[]): Promise<void> {
  const models = (opt(argv, 'models') ?? 'scratch,resnet50,inception_v3').split(',').filter((m): m is ModelName => isModelName(m));
  const count = Number(opt(argv, 'images') ?? 3);
  const backend = opt(argv, 'backend') ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend ${backend}: expected wasm or cpu`);
  const chosen = await chooseBackend(backend);
  const real = realData();
  const tmp = mkdtempSync(join(tmpdir(), 'ms-bench-gradcam-'));
  try {
    const photos =
      'dir' in real
        ? labelledRows(real.dir).slice(0, count + 1).map(([name]) => join(real.dir, 'images', name))
        : (await makeFaces(tmp, count + 1, 1)).map((f) => f.path);
    console.log(`Grad-CAM on ${chosen.backend} (${chosen.device}), ${count} images after 1 warm-up, ${'dir' in real ? 'real Spot the Mask photos' : 'synthetic faces'}`);
    for (const name of models) {
      const spec = ARCHITECTURES[name];
      const size = spec.defaultInputSize;
      const built = performance.now();
      const model = buildClassifier(name, { inputSize: size });
      const cm = camModel(model);
      const buildSeconds = (performance.now() - built) / 1000;
      const times: number[] = [];
      let pixels = 0;
      for (const [i, photo] of photos.entries()) {
        const started = performance.now();
        const input = batchTensor([await decodeRgb(photo, size, 'fill')], [0], size, spec.preprocessing);
        const cam = await gradCam(cm, input).finally(() => input.dispose());
        const overlay = await overlayCam(photo, cam, { inputSize: size, resize: 'fill' });
        if (i > 0) times.push((performance.now() - started) / 1000);
        pixels = overlay.width * overlay.height;
      }
      model.dispose();
      const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
      console.log(
        `${name.padEnd(20)} ${size} px  layer ${cm.layer.name.padEnd(22)} ${mean.toFixed(2)} s/image (min ${Math.min(...times).toFixed(2)})  ` +
          `build ${buildSeconds.toFixed(1)} s  last overlay ${pixels} px  tensors ${tf.memory().numTensors}`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
