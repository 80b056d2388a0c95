/** Which models can train here: what the Train view marks and "train all" (app and CLI) queues or skips. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { trainModels } from '../../../electron/core/ml/train/plan';
import { kerasFilePath } from '../../../electron/core/ml/weights/catalog';
import { findNsfwjs } from '../../../electron/core/ml/weights/nsfwjs';
import { tempDir } from '../../helpers';

describe('trainModels', () => {
  test('scratch always trains; a transfer model without weights is marked with the command that fetches them', (t) => {
    const infos = trainModels(tempDir('train-plan', t));
    assert.deepEqual(infos.map((i) => i.model), ['scratch', 'vgg19', 'inception_v3', 'inception_resnet_v2', 'resnet50', 'xception']);
    const scratch = infos.find((i) => i.model === 'scratch');
    assert.equal(scratch?.best, 'none');
    assert.equal(scratch?.pretrained, false);
    for (const model of ['vgg19', 'inception_resnet_v2', 'resnet50', 'xception'] as const) {
      const info = infos.find((i) => i.model === model);
      assert.equal(info?.best, null, model);
      assert.match(info?.reason ?? '', new RegExp(`mask-studio weights fetch ${model}`));
      assert.match(info?.help ?? '', new RegExp(`mask-studio weights import ${model} FILE`));
      assert.equal(info?.sources.find((s) => s.weights === 'none')?.available, true);
      assert.equal(info?.sources.find((s) => s.weights === 'nsfwjs')?.available, false);
    }
    const v3 = infos.find((i) => i.model === 'inception_v3');
    // nsfwjs is a devDependency: where it is installed, InceptionV3 trains offline from it
    assert.equal(v3?.best, findNsfwjs() ? 'nsfwjs' : null);
    assert.equal(v3?.minInputSize, 75);
  });

  test('a Keras file in the weights folder makes ImageNet the choice', (t) => {
    const dir = tempDir('train-plan', t);
    const file = kerasFilePath('resnet50', dir);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'not really h5: presence is what is asked');
    const resnet = trainModels(dir).find((i) => i.model === 'resnet50');
    assert.equal(resnet?.best, 'imagenet');
    assert.equal(resnet?.reason, null);
    assert.equal(resnet?.sources.find((s) => s.weights === 'imagenet')?.available, true);
  });
});
