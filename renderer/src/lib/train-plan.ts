/**
 * The Train view's queue, decided before anything starts: for each model, the weights it would train from
 * under the person's weights choice, or why it cannot train here. "Train all and compare" queues every model
 * with weights and says, per skipped model, what would fix it.
 */
import type { TrainModelInfo, WeightsSource } from '../../../shared/contract';

/** 'best': ImageNet where present, else nsfwjs for InceptionV3; 'file': the path typed beside the choice. */
export type WeightsChoice = 'best' | WeightsSource | 'file';

export interface Planned {
  model: TrainModelInfo['model'];
  /** Undefined for scratch (it always starts from random weights). */
  weights?: string;
}

export interface Skipped {
  model: TrainModelInfo['model'];
  reason: string;
  /** The long way to fix it (offline copies included), when core gave one. */
  help?: string;
}

/** The weights `info` would start from under `choice`, or why it cannot train. */
export function weightsFor(info: TrainModelInfo, choice: WeightsChoice, file: string): { weights?: string } | { skip: string; help?: string } {
  if (!info.pretrained) return {};
  if (choice === 'best') {
    if (info.best !== null) return { weights: info.best };
    return info.help ? { skip: info.reason ?? 'no pretrained weights here', help: info.help } : { skip: info.reason ?? 'no pretrained weights here' };
  }
  if (choice === 'file') {
    const path = file.trim();
    return path ? { weights: path } : { skip: 'type the path of a Keras .h5 or a TensorFlow.js model.json beside "a file"' };
  }
  const source = info.sources.find((s) => s.weights === choice);
  if (!source) return { skip: `no '${choice}' weights for ${info.model}` };
  return source.available ? { weights: choice } : { skip: source.reason ?? `no '${choice}' weights here` };
}

/** Splits `models` into what trains (in the given order) and what is skipped with its reason. */
export function planQueue(
  infos: readonly TrainModelInfo[],
  models: readonly TrainModelInfo['model'][],
  choice: WeightsChoice,
  file: string,
  inputSize: number | null,
): { queue: Planned[]; skipped: Skipped[] } {
  const queue: Planned[] = [];
  const skipped: Skipped[] = [];
  for (const model of models) {
    const info = infos.find((i) => i.model === model);
    if (!info) {
      skipped.push({ model, reason: 'core did not say whether this model can train here' });
      continue;
    }
    if (inputSize !== null && inputSize < info.minInputSize) {
      skipped.push({ model, reason: `needs an input size of at least ${info.minInputSize} px; the input size is ${inputSize} px` });
      continue;
    }
    const w = weightsFor(info, choice, file);
    if ('skip' in w) skipped.push(w.help ? { model, reason: w.skip, help: w.help } : { model, reason: w.skip });
    else queue.push(w.weights === undefined ? { model } : { model, weights: w.weights });
  }
  return { queue, skipped };
}

/** How a weights value reads in the tables: the named sources as people say them, a file by its name. */
export function weightsLabel(weights: string): string {
  if (weights === 'imagenet') return 'ImageNet';
  if (weights === 'none') return 'random init';
  if (weights === 'nsfwjs') return 'nsfwjs (offline)';
  return weights.split(/[\\/]/).pop() ?? weights;
}

/**
 * The queue bar's words: which model of how many trains, and the models after it. The queue's head is the
 * model training now; it is not "to go".
 */
export function queueLabel(position: { model: number; models: number }, queue: readonly Planned[]): string {
  const after = queue.slice(1).map((q) => q.model);
  return `queue: model ${position.model} of ${position.models} (${after.length > 0 ? `${after.join(', ')} to go` : 'the last'})`;
}
