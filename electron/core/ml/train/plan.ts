/**
 * Which models can train on this machine and from which weights, without building any: the Train view marks
 * its models with it and "train all" (the app's and `mask-studio train --all`) skips, with the reason, every
 * model whose weights are not here.
 */
import type { TrainModelInfo, WeightsSource } from '../../../../shared/contract';
import { ARCHITECTURES } from '../models';
import { MODEL_NAMES, type ModelName, type TransferModelName } from '../../../../shared/names';
import { fetchHint, findNsfwjs, weightsStatus } from '../weights';

const NSFWJS_MISSING = "the offline InceptionV3 needs the npm package nsfwjs: 'npm install --save-dev nsfwjs@4.4.0'";

function transferInfo(model: TransferModelName, weightsDir: string | undefined): Pick<TrainModelInfo, 'sources' | 'best' | 'reason' | 'help'> {
  const imagenet = weightsStatus(model, weightsDir ? { dir: weightsDir } : {}).present;
  const nsfwjs = model === 'inception_v3' && findNsfwjs() !== null;
  const sources: TrainModelInfo['sources'] = [
    { weights: 'imagenet', available: imagenet, reason: imagenet ? null : `no ImageNet weights here: 'mask-studio weights fetch ${model}'` },
    {
      weights: 'nsfwjs',
      available: nsfwjs,
      reason: nsfwjs ? null : model === 'inception_v3' ? NSFWJS_MISSING : `the nsfwjs weights are an InceptionV3, not ${model}`,
    },
    { weights: 'none', available: true, reason: null },
  ];
  const best: WeightsSource | null = imagenet ? 'imagenet' : nsfwjs ? 'nsfwjs' : null;
  const alt = model === 'inception_v3' ? "; or 'npm install --save-dev nsfwjs@4.4.0' for an offline pretrained InceptionV3" : '';
  if (best) return { sources, best, reason: null, help: null };
  const short = model === 'inception_v3' ? ' (or install nsfwjs)' : '';
  return { sources, best, reason: `no pretrained weights here: 'mask-studio weights fetch ${model}'${short}`, help: `no pretrained weights here: ${fetchHint(model)}${alt}` };
}

export function trainModels(weightsDir?: string): TrainModelInfo[] {
  return MODEL_NAMES.map((model: ModelName): TrainModelInfo => {
    const spec = ARCHITECTURES[model];
    const sizes = { defaultInputSize: spec.defaultInputSize, minInputSize: spec.minInputSize };
    if (model === 'scratch') {
      return { model, pretrained: false, ...sizes, sources: [{ weights: 'none', available: true, reason: null }], best: 'none', reason: null, help: null };
    }
    return { model, pretrained: true, ...sizes, ...transferInfo(model, weightsDir) };
  });
}
