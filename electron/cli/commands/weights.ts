/** `mask-studio weights list|fetch MODEL|import MODEL FILE`: the per-user cache of pretrained weights. */
import type { WeightsStatus } from '../../core/ml/weights';
import { UsageError, boolOpt, positional, type Command } from '../command';

function row(s: WeightsStatus): string {
  if (!s.pretrained) return `${s.model.padEnd(20)} random init (trained from scratch)`;
  const where = s.present ? `${s.format} ${s.source ?? 'found'}${s.md5Verified ? ', Keras MD5 ok' : ''}: ${s.path}` : 'missing';
  const alt = s.alternatives.length > 0 ? `  (offline alternative: --weights ${s.alternatives.join(', ')})` : '';
  return `${s.model.padEnd(20)} ${where}${alt}`;
}

export const weights: Command = {
  name: 'weights',
  usage: 'weights list | fetch MODEL [--force] | import MODEL FILE',
  summary: "pretrained ImageNet weights: list the cache, download Keras's file (MD5-checked), or import a local .h5 / model.json",
  options: { force: { type: 'boolean' } },
  async run(ctx, args) {
    const { fetchWeights, importWeights, listWeights, weightsDir } = await import('../../core/ml/weights');
    const sub = args.positionals[0] ?? 'list';
    if (sub === 'list') {
      const list = listWeights();
      ctx.print({ dir: weightsDir(), models: list }, () => [`weights cache: ${weightsDir()}`, ...list.map(row)].join('\n'));
      return;
    }
    if (sub === 'fetch') {
      const model = positional(args, 1, 'MODEL');
      const bar = ctx.progress(`weights ${model}`);
      const status = await fetchWeights(model, {
        force: boolOpt(args, 'force'),
        onProgress: (p) =>
          bar({
            phase: 'download',
            done: Math.round(p.receivedBytes / 1e6),
            total: p.totalBytes === null ? Math.round(p.receivedBytes / 1e6) + 1 : Math.round(p.totalBytes / 1e6),
            etaMs: p.totalBytes !== null && p.bytesPerSecond > 0 ? ((p.totalBytes - p.receivedBytes) / p.bytesPerSecond) * 1000 : null,
          }),
      });
      ctx.print(status, () => row(status));
      return;
    }
    if (sub === 'import') {
      const result = await importWeights(positional(args, 1, 'MODEL'), positional(args, 2, 'FILE'));
      ctx.print(result, () => `${row(result.status)}\n  ${result.report.layers.length} weighted layers loaded${result.report.ignoredSourceLayers.length > 0 ? `, ignored: ${result.report.ignoredSourceLayers.join(', ')}` : ''}`);
      return;
    }
    throw new UsageError(`unknown weights subcommand '${sub}' (list, fetch, import)`);
  },
};
