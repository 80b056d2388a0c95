/** `export-model`: a run's best checkpoint as ONNX or TensorFlow.js files plus a model card. */
import { AppError } from '../../../shared/errors';
import { EXPORT_FORMATS, TTA_MODES } from '../../../shared/names';
import { ttaViewsText } from '../../../shared/tta-text';
import { UsageError, stringOpt, type Command } from '../command';
import { given, parseInput } from '../contract-call';

export const exportModel: Command = {
  name: 'export-model',
  usage: `export-model --run ID --format ${EXPORT_FORMATS.join('|')} --out DIR [--tta ${TTA_MODES.join('|')}]`,
  summary:
    "write a run's best model (ONNX with preprocessing in the graph, or TensorFlow.js) and its model-card.json; " +
    `--tta (default the run's own): ONNX with flip averages ${ttaViewsText('flip')} inside the graph, other modes are described in the card`,
  options: { run: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, tta: { type: 'string' } },
  async run(ctx, args) {
    const id = stringOpt(args, 'run');
    const out = stringOpt(args, 'out');
    if (!id || !out) throw new UsageError('export-model needs --run ID and --out DIR');
    // the app's runs.export schema checks the format and the TTA mode: the CLI refuses what the app refuses
    const input = parseInput('runs.export', given({ id, format: stringOpt(args, 'format'), tta: stringOpt(args, 'tta') }), { id: '--run', format: '--format', tta: '--tta' });
    const lib = ctx.library(false);
    // TensorFlow.js and the exporter load only here, so other commands start fast
    const [{ chooseBackend }, { exportRunModel }] = await Promise.all([import('../../core/ml/backend/train-backend'), import('../../core/ml/inference/export-model')]);
    if (input.format === 'onnx') await chooseBackend('auto'); // the export reads the tfjs checkpoint's weights
    const result = await exportRunModel(lib, id, input.format, out, input.tta).catch((err: unknown) => {
      if (err instanceof AppError) throw err;
      throw new AppError('INTERNAL', `export of run ${id} as ${input.format} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    const tta = result.card.tta;
    ctx.print(result, () =>
      `wrote ${result.files.join(', ')} to ${result.dir} (${result.card.architecture}${result.card.folds !== null ? `, its ${result.card.folds} folds as one network` : ''}, ${result.card.inputSize} px, ${input.format}; ` +
      `TTA ${tta.mode}${tta.mode === 'none' ? '' : tta.inGraph ? ' inside the graph' : ': average the views yourself, see model-card.json'}` +
      `${result.card.faces.scored ? "; the run's scores averaged in its faces, which the model does not find itself: see model-card.json" : ''})`,
    );
  },
};
