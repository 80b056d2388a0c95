/**
 * `doctor` and `models`: what this machine can run, and what each architecture is. Neither needs a library.
 * The report (core/api/doctor-handlers, the studio's `doctor.get`), TensorFlow.js and the models are loaded inside `run`, so other commands start without them.
 */
import { weightsStatus } from '../../../shared/doctor';
import type { Command } from '../command';

export const doctor: Command = {
  name: 'doctor',
  usage: 'doctor [--json]',
  summary: 'backends (tensorflow GPU/CPU, wasm, cpu), the GPU and its CUDA/cuDNN libraries, ONNX Runtime, weights',
  options: {},
  async run(ctx) {
    const { doctorReport } = await import('../../core/api/doctor-handlers');
    const doc = await doctorReport();
    const { chosen, wasm, cuda, onnxRuntime: onnx, weights } = doc;
    ctx.print(doc, () => {
      const yes = (b: boolean) => (b ? 'yes' : 'no');
      const engine = onnx.loads ? `ONNX Runtime on ${onnx.report.trains.provider}` : `TensorFlow.js ${chosen.name} (ONNX Runtime does not load)`;
      const lines = [
        `training engine (train --engine auto): ${engine}`,
        `TensorFlow.js backend (the fallback, and a model with a layer ONNX training lacks): ${chosen.name} (${chosen.device})`,
        '',
        'TensorFlow.js backends (best first):',
      ];
      for (const b of doc.backends) {
        lines.push(`  ${b.name.padEnd(15)} ${b.package.padEnd(30)} installed ${yes(b.installed).padEnd(4)} loads ${yes(b.loads).padEnd(4)}${b.device ? ` ${b.device}` : ''}${b.error ? `  (${b.error.split('\n')[0]})` : ''}`);
      }
      lines.push(`  wasm: SIMD ${yes(wasm.simd)}, threads ${yes(wasm.threads)}`);
      lines.push('', 'GPU:');
      lines.push(cuda.gpus && cuda.gpus.length > 0 ? cuda.gpus.map((g) => `  ${g.name}, driver ${g.driver}, ${g.memoryMiB} MiB`).join('\n') : '  no NVIDIA GPU found (nvidia-smi absent or failing)');
      for (const l of cuda.libraries) lines.push(`  ${l.name.padEnd(22)} ${l.path ?? 'missing'}`);
      if (cuda.otherVersions.length > 0) lines.push(`  other CUDA/cuDNN versions found: ${cuda.otherVersions.join(', ')}`);
      lines.push(`  ${cuda.gpuReady ? 'the tfjs GPU path is ready' : `to train on the GPU: ${cuda.hint}`}`);
      lines.push('', 'ONNX Runtime (inference; training of the scratch CNN and the transfer models\' heads and tops):');
      if (onnx.loads) {
        lines.push(`  onnxruntime-node ${onnx.report.version}`);
        for (const p of onnx.report.providers) lines.push(`  ${p.name.padEnd(12)} ${p.available ? 'available' : 'not available'}: ${p.detail}`);
        lines.push(`  trains on ${onnx.report.trains.provider}: ${onnx.report.trains.why}`);
        for (const o of onnx.report.trains.others) lines.push(`    not ${o.name}: ${o.whyNot}`);
        if (onnx.report.cudaHint) lines.push(`  for CUDA: ${onnx.report.cudaHint}`);
      } else lines.push(`  does not load: ${onnx.error}`);
      lines.push('', `pretrained weights (${weights.dir}):`);
      for (const w of weights.models) {
        const s = weightsStatus(w);
        lines.push(`  ${w.model.padEnd(20)} ${s.text}${s.fetch !== null ? `: ${s.fetch}` : ''}`);
      }
      return lines.join('\n');
    });
  },
};

export const models: Command = {
  name: 'models',
  usage: 'models [--json]',
  summary: 'the six architectures: input size, preprocessing, parameters with and without the top, weights present',
  options: {},
  async run(ctx) {
    const [{ ARCHITECTURES, MODEL_NAMES }, { weightsStatus }] = await Promise.all([import('../../core/ml/models'), import('../../core/ml/weights')]);
    const rows = MODEL_NAMES.map((name) => {
      const a = ARCHITECTURES[name];
      const w = weightsStatus(name);
      return {
        name,
        kerasName: a.kerasName,
        inputSize: a.defaultInputSize,
        minInputSize: a.minInputSize,
        preprocessing: a.preprocessing,
        paramsWithTop: a.keras?.paramsWithTop ?? null,
        paramsNoTop: a.keras?.paramsNoTop ?? null,
        weightsPresent: w.pretrained ? w.present : null,
        alternatives: w.alternatives,
      };
    });
    ctx.print({ models: rows }, () => {
      const n = (v: number | null) => (v === null ? '—' : v.toLocaleString('en-US'));
      const lines = [`${'model'.padEnd(20)} ${'input'.padEnd(6)} ${'prep'.padEnd(6)} ${'params (top)'.padStart(13)} ${'params (no top)'.padStart(16)}  weights`];
      for (const r of rows) {
        const weights = r.weightsPresent === null ? 'random init' : r.weightsPresent ? 'present' : `missing${r.alternatives.length > 0 ? ` (or --weights ${r.alternatives.join(', ')})` : ''}`;
        lines.push(`${r.name.padEnd(20)} ${String(r.inputSize).padEnd(6)} ${r.preprocessing.padEnd(6)} ${n(r.paramsWithTop).padStart(13)} ${n(r.paramsNoTop).padStart(16)}  ${weights}`);
      }
      return lines.join('\n');
    });
  },
};
