/** Pretrained weights: Keras `.h5` and TensorFlow.js readers, the per-user cache, and the nsfwjs InceptionV3. */
export { KERAS_WEIGHTS, weightsDir, fetchHint, type KerasWeightsFile } from './catalog';
export type { DownloadProgress } from './download';
export { checkH5Weights, loadH5Weights, withKerasH5, type KerasH5 } from './h5';
export { WeightsMismatchError, type LoadReport, type MatchMode, type WeightsTarget } from './match';
export { NSFWJS_PREPROCESSING, findNsfwjs, loadNsfwjsInceptionV3 } from './nsfwjs';
export {
  fetchWeights,
  importWeights,
  listWeights,
  loadWeightsInto,
  weightsStatus,
  type FetchOptions,
  type ImportResult,
  type LoadedWeights,
  type WeightsSource,
  type WeightsStatus,
} from './registry';
export { loadTfjsWeights, readTfjsModelJson } from './tfjs-layers';
