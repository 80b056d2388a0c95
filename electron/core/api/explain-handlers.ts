/** Contract handler for runs.explain: Grad-CAM of a library image for a run, as a PNG data URL. */
import { AppError } from '../../../shared/errors';
import type { HandlerTable } from './dataset-handlers';

/** The app shows the overlay in a panel: a photo larger than this is shrunk first (the data URL stays small). */
const MAX_SIDE = 768;

export const explainHandlers: HandlerTable<'runs.explain'> = {
  'runs.explain': async (ctx, input) => {
    const row = ctx.lib.db.prepare('SELECT path, missing FROM images WHERE id = ?').get(input.imageId) as { path: string; missing: number } | undefined;
    if (!row) throw new AppError('NOT_FOUND', `no image with id ${input.imageId}`);
    if (row.missing === 1) throw new AppError('NOT_FOUND', `image ${input.imageId} is missing from disk (${row.path})`);
    // loaded here: TensorFlow.js stays out of the dataset methods' start-up
    const [{ chooseBackend }, { explainFiles }] = await Promise.all([import('../ml/backend/train-backend'), import('../ml/explain/explain-files')]);
    await chooseBackend('auto');
    const [r] = await explainFiles(ctx.lib, input.id, [row.path], { maxSide: MAX_SIDE });
    if (!r) throw new AppError('INTERNAL', 'explain returned nothing');
    return { dataUrl: `data:image/png;base64,${r.png.toString('base64')}`, probability: r.probability, layer: r.layer, through: r.through, label: r.label };
  },
};
