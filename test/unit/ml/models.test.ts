/**
 * One table over the six architectures: Keras's parameter counts with and without the top, Keras's layer
 * names and counts, output shapes, the input-size check, a forward pass and a save/load round trip of
 * base + head at a small input on wasm, and no tensor leak across a short fit.
 */
import { afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../electron/core/ml/backend/backend';
import {
  ARCHITECTURES,
  HEAD_PREFIX,
  MODEL_NAMES,
  buildBase,
  buildClassifier,
  buildHead,
  buildWithTop,
  type ModelName,
} from '../../../electron/core/ml/models/index';

interface Row {
  /** Keras's len(model.layers) for include_top=False (input layer included). */
  layers: number;
  /** Side used for the forward pass, save/load and shape checks: small, so the file stays fast. */
  small: number;
  shapeSmall: [number, number, number];
  shapeDefault: [number, number, number];
  /** A few of Keras's layer names, in Keras's order. */
  names: string[];
}

const TABLE: Record<ModelName, Row> = {
  scratch: {
    layers: 7,
    small: 32,
    shapeSmall: [4, 4, 128],
    shapeDefault: [12, 12, 128],
    names: ['block1_conv', 'block1_pool', 'block3_conv', 'block3_pool'],
  },
  vgg19: {
    layers: 22,
    small: 64,
    shapeSmall: [2, 2, 512],
    shapeDefault: [7, 7, 512],
    names: ['block1_conv1', 'block1_pool', 'block3_conv4', 'block5_conv4', 'block5_pool'],
  },
  inception_v3: {
    layers: 311,
    small: 75,
    shapeSmall: [1, 1, 2048],
    shapeDefault: [8, 8, 2048],
    names: ['conv2d', 'batch_normalization', 'activation', 'conv2d_1', 'mixed0', 'mixed9_0', 'conv2d_93', 'mixed10'],
  },
  inception_resnet_v2: {
    layers: 780,
    small: 75,
    shapeSmall: [1, 1, 1536],
    shapeDefault: [8, 8, 1536],
    names: ['conv2d', 'mixed_5b', 'block35_1_mixed', 'block35_1_conv', 'custom_scale_layer', 'block35_1_ac', 'mixed_6a',
      'block17_20_ac', 'mixed_7a', 'block8_10_conv', 'custom_scale_layer_39', 'conv_7b', 'conv_7b_bn', 'conv_7b_ac'],
  },
  resnet50: {
    layers: 175,
    small: 64,
    shapeSmall: [2, 2, 2048],
    shapeDefault: [7, 7, 2048],
    names: ['conv1_pad', 'conv1_conv', 'conv1_bn', 'conv1_relu', 'pool1_pad', 'pool1_pool', 'conv2_block1_1_conv',
      'conv2_block1_0_conv', 'conv4_block6_out', 'conv5_block3_3_bn', 'conv5_block3_add', 'conv5_block3_out'],
  },
  xception: {
    layers: 132,
    small: 71,
    shapeSmall: [3, 3, 2048],
    shapeDefault: [10, 10, 2048],
    names: ['block1_conv1', 'block1_conv1_bn', 'block1_conv1_act', 'block2_sepconv1', 'conv2d', 'block2_pool', 'add',
      'block5_sepconv1_act', 'block13_pool', 'add_11', 'block14_sepconv2_act'],
  },
};

/** The scratch CNN's parameters, from its documented default: 3x3 convs 32/64/128, Dense(128), Dense(1). */
function scratchParams(inputSize: number, withHead: boolean): number {
  const filters = [32, 64, 128];
  let cin = 3;
  let total = 0;
  for (const f of filters) {
    total += 9 * cin * f + f;
    cin = f;
  }
  if (!withHead) return total;
  const side = inputSize / 2 ** filters.length;
  return total + (side * side * cin * 128 + 128) + (128 + 1);
}

function outputShape(model: tf.LayersModel): number[] {
  const out = model.outputs[0];
  assert.ok(out !== undefined);
  return out.shape.slice(1).map((d) => d ?? -1);
}

async function roundTrip(model: tf.LayersModel): Promise<tf.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  assert.ok(artifacts !== undefined, 'model.save produced no artifacts');
  // through JSON text, as a model.json file would go
  const topology = JSON.parse(JSON.stringify(artifacts.modelTopology)) as tf.io.ModelArtifacts['modelTopology'];
  return tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, modelTopology: topology }));
}

before(async () => {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
});

describe('architectures (one table)', () => {
  // every model built here is disposed: none may leave a tensor behind
  let tensorsBefore = 0;
  beforeEach(() => {
    tensorsBefore = tf.memory().numTensors;
  });
  afterEach(() => {
    assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors left behind');
  });

  for (const name of MODEL_NAMES) {
    const spec = ARCHITECTURES[name];
    const row = TABLE[name];

    describe(name, () => {
      test('parameter counts equal Keras (with and without the top)', () => {
        if (spec.keras === null) {
          const full = buildClassifier(name, { initializer: 'zeros' });
          const base = buildBase(name, { initializer: 'zeros' });
          try {
            assert.equal(full.countParams(), scratchParams(spec.defaultInputSize, true));
            assert.equal(base.countParams(), scratchParams(spec.defaultInputSize, false));
          } finally {
            full.dispose();
            base.dispose();
          }
          return;
        }
        assert.ok(name !== 'scratch');
        // VGG19's top alone is ~575 MB of float32: count it, then free it before anything else
        const top = buildWithTop(name, { initializer: 'zeros' });
        const withTop = top.countParams();
        top.dispose();
        assert.equal(withTop, spec.keras.paramsWithTop);
        const base = buildBase(name, { initializer: 'zeros' });
        try {
          assert.equal(base.countParams(), spec.keras.paramsNoTop);
        } finally {
          base.dispose();
        }
      });

      test("Keras's layer names, order and count; output shapes at the default and a small size", () => {
        const base = buildBase(name, { initializer: 'zeros' });
        const small = buildBase(name, { inputSize: row.small, initializer: 'zeros' });
        const pooled = buildBase(name, { inputSize: row.small, pooling: 'avg', initializer: 'zeros' });
        try {
          assert.equal(base.layers.length, row.layers);
          const names = base.layers.map((l) => l.name);
          const positions = row.names.map((n) => names.indexOf(n));
          assert.ok(positions.every((p) => p >= 0), `missing: ${row.names.filter((_, i) => positions[i] === -1).join(', ')}`);
          assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'names out of Keras order');
          assert.equal(new Set(names).size, names.length);
          assert.deepEqual(outputShape(base), row.shapeDefault);
          assert.deepEqual(outputShape(small), row.shapeSmall);
          assert.deepEqual(outputShape(pooled), [row.shapeSmall[2]]);
          assert.equal(base.inputs[0]?.shape[1], spec.defaultInputSize);
        } finally {
          base.dispose();
          small.dispose();
          pooled.dispose();
        }
      });

      test('input size is checked up front, naming the value and the minimum', () => {
        const tooSmall = spec.minInputSize - 1;
        for (const build of [() => buildBase(name, { inputSize: tooSmall }), () => buildClassifier(name, { inputSize: tooSmall })]) {
          assert.throws(build, (err: unknown) => {
            assert.ok(err instanceof RangeError);
            assert.match(err.message, new RegExp(`received ${tooSmall}\\b`));
            assert.match(err.message, new RegExp(`at least ${spec.minInputSize} px`));
            return true;
          });
        }
        assert.throws(() => buildBase(name, { inputSize: 100.5 }), /received 100.5/);
        const smallest = buildBase(name, { inputSize: spec.minInputSize, initializer: 'zeros' });
        try {
          assert.ok(outputShape(smallest).every((d) => d >= 1));
        } finally {
          smallest.dispose();
        }
      });

      test('base + head: forward pass on wasm, then a save/load round trip with equal outputs', async () => {
        const model = buildClassifier(name, { inputSize: row.small });
        const names = model.layers.map((l) => l.name);
        const head = names.filter((n) => n.startsWith(HEAD_PREFIX));
        assert.ok(head.includes(`${HEAD_PREFIX}dense`) && head.includes(`${HEAD_PREFIX}dropout`), head.join(', '));
        // the head comes after every base layer
        assert.ok(names.slice(names.length - head.length).every((n) => n.startsWith(HEAD_PREFIX)));

        const x = tf.randomUniform([2, row.small, row.small, 3], -1, 1, 'float32', 7);
        const y = model.predict(x);
        assert.ok(y instanceof tf.Tensor);
        assert.deepEqual(y.shape, [2, 1]);
        const values = Array.from(await y.data());
        assert.ok(values.every((v) => Number.isFinite(v) && v > 0 && v < 1), `not probabilities: ${values.join(', ')}`);

        const loaded = await roundTrip(model);
        try {
          assert.deepEqual(loaded.layers.map((l) => l.name), names);
          assert.equal(loaded.countParams(), model.countParams());
          const y2 = loaded.predict(x);
          assert.ok(y2 instanceof tf.Tensor);
          // a fresh random model would differ: equality means every weight came back
          assert.deepEqual(Array.from(await y2.data()), values);
          y2.dispose();
        } finally {
          tf.dispose([x, y]);
          model.dispose();
          loaded.dispose();
        }
      });
    });
  }
});

describe('transfer head', () => {
  test('buildHead has the classifier head layer names, so stage-1 weights move into the classifier', () => {
    const head = buildHead(2048, { dropout: 0.3, hiddenUnits: 16 });
    const full = buildClassifier('resnet50', { inputSize: 32, dropout: 0.3, hiddenUnits: 16, initializer: 'zeros' });
    try {
      const headNames = head.layers.filter((l) => l.weights.length > 0).map((l) => l.name);
      const fullNames = full.layers.filter((l) => l.name.startsWith(HEAD_PREFIX) && l.weights.length > 0).map((l) => l.name);
      assert.deepEqual(headNames, fullNames);
      assert.deepEqual(headNames, [`${HEAD_PREFIX}hidden`, `${HEAD_PREFIX}dense`]);
      assert.equal(head.countParams(), 2048 * 16 + 16 + 16 + 1);
    } finally {
      head.dispose();
      full.dispose();
    }
  });

  test('head options are checked', () => {
    assert.throws(() => buildHead(0), /featureDim .* received 0/);
    assert.throws(() => buildClassifier('xception', { dropout: 1 }), /dropout .* received 1/);
    assert.throws(() => buildClassifier('vgg19', { hiddenUnits: -2 }), /hiddenUnits .* received -2/);
    assert.throws(() => buildBase('nope' as ModelName), /unknown model 'nope'/);
  });
});

/**
 * A fit leaks if numTensors grows from one fit to the next; the first fit creates the optimizer's slots,
 * so it is the warm-up. The transfer model is InceptionV3 fine-tuned the usual way (base frozen but its
 * last convolution): it is the one with scale-less BatchNormalization, which tfjs alone cannot train.
 */
describe('no tensor leak across a short fit', () => {
  async function fitTwice(model: tf.LayersModel, size: number): Promise<[number, number]> {
    const optimizer = tf.train.momentum(0.01, 0.9);
    model.compile({ optimizer, loss: 'binaryCrossentropy' });
    const x = tf.randomUniform([4, size, size, 3], 0, 1, 'float32', 3);
    const y = tf.tensor2d([[0], [1], [1], [0]]);
    try {
      await model.fit(x, y, { batchSize: 2, epochs: 1, verbose: 0 });
      const before = tf.memory().numTensors;
      await model.fit(x, y, { batchSize: 2, epochs: 1, verbose: 0 });
      return [before, tf.memory().numTensors];
    } finally {
      tf.dispose([x, y]);
      // a model disposes only an optimizer it created from a name (tfjs's momentum keeps one scalar anyway)
      optimizer.dispose();
    }
  }

  test('scratch', async () => {
    const model = buildClassifier('scratch', { inputSize: 32 });
    try {
      const [before, afterFit] = await fitTwice(model, 32);
      assert.equal(afterFit, before);
    } finally {
      model.dispose();
    }
  });

  test('inception_v3 with a frozen base: frozen BatchNormalization keeps its statistics', async () => {
    const model = buildClassifier('inception_v3', { inputSize: 75 });
    try {
      const lastConv = model.layers.filter((l) => l.getClassName() === 'Conv2D').at(-1);
      const lastBn = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').at(-1);
      assert.ok(lastConv !== undefined && lastBn !== undefined);
      const open = new Set([lastConv.name, lastBn.name]);
      for (const l of model.layers) l.trainable = l.name.startsWith(HEAD_PREFIX) || open.has(l.name);
      const bns = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
      const stats = (): number[][] => bns.map((l) => Array.from(l.getWeights()[1]?.dataSync() ?? []));
      const statsBefore = stats();

      const [before, afterFit] = await fitTwice(model, 75);
      assert.equal(afterFit, before);

      const statsAfter = stats();
      const changed = bns.filter((_, i) => statsBefore[i]?.join() !== statsAfter[i]?.join()).map((l) => l.name);
      assert.deepEqual(changed, [lastBn.name]);
    } finally {
      model.dispose();
    }
  });
});
