/**
 * Train's form as text and choices, filled from a training job's settings: a page reloaded while a training
 * runs shows what that job was started with, not the defaults. Empty text is the model's default, as typed.
 */
import type { TrainInput } from '../../../shared/contract';
import { NAMED_WEIGHTS, type BackendPref, type ModelName, type TtaMode } from '../../../shared/names';
import type { WeightsChoice } from './train-plan';

export interface TrainForm {
  model: ModelName;
  weightsChoice: WeightsChoice;
  weightsFile: string;
  epochs: string;
  batchSize: string;
  lr: string;
  inputSize: string;
  backend: BackendPref;
  augment: boolean;
  /** '' for the train/val split, else K. */
  folds: string;
  tta: TtaMode | '';
  faces: boolean;
}

const text = (n: number | undefined): string => (n === undefined ? '' : String(n));

function weightsOf(weights: string | undefined): Pick<TrainForm, 'weightsChoice' | 'weightsFile'> {
  if (weights === undefined) return { weightsChoice: 'best', weightsFile: '' };
  const named = NAMED_WEIGHTS.find((w) => w === weights);
  return named !== undefined ? { weightsChoice: named, weightsFile: '' } : { weightsChoice: 'file', weightsFile: weights };
}

/** The form as `input` asked (a setting it left out is the model's default there too). */
export function formOf(input: TrainInput): TrainForm {
  return {
    model: input.model,
    ...weightsOf(input.weights),
    epochs: text(input.epochs),
    batchSize: text(input.batchSize),
    lr: text(input.lr),
    inputSize: text(input.inputSize),
    backend: input.backend ?? 'auto',
    // the form always sends augment; a job started elsewhere without it has core's default (scratch only)
    augment: input.augment ?? input.model === 'scratch',
    folds: text(input.folds),
    tta: input.tta ?? '',
    faces: input.faces ?? false,
  };
}
