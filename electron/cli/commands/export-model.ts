/** `export-model`: a run's best checkpoint as ONNX or TensorFlow.js files plus a model card. */
import { AppError } from '../../../shared/errors';
import { UsageError, stringOpt, type Command } from '../command';

export const exportModel: Command = {
  name: 'export-model',
  usage: 'export-model --run ID --format onnx|tfjs --out DIR',
  summary: "write a run's best model (ONNX with preprocessing in the graph, or TensorFlow.js) and its model-card.json",
  options: { run: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' } },
  async run(ctx, args) {
    const id = stringOpt(args, 'run');
    const format = stringOpt(args, 'format') ?? 'onnx';
    const out = stringOpt(args, 'out');
    if (!id || !out) throw new UsageError('export-model needs --run ID and --out DIR');
    if (format !== 'onnx' && format !== 'tfjs') throw new UsageError(`--format '${format}': expected onnx or tfjs`);
    const lib = ctx.library(false);
    // TensorFlow.js and the exporter load only here, so other commands start fast
    const [{ chooseBackend }, { exportRunModel }] = await Promise.all([import('../../core/ml/backend/train-backend'), import('../../core/ml/inference/export-model')]);
    if (format === 'onnx') await chooseBackend('auto'); // the export reads the tfjs checkpoint's weights
    const result = await exportRunModel(lib, id, format, out).catch((err: unknown) => {
      if (err instanceof AppError) throw err;
      throw new AppError('INTERNAL', `export of run ${id} as ${format} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    ctx.print(result, () => `wrote ${result.files.join(', ')} to ${result.dir} (${result.card.architecture}, ${result.card.inputSize} px, ${format})`);
  },
};
