/**
 * What `mask-studio doctor --json` prints and `doctor.get` returns: one document, so the CLI and the studio
 * cannot drift apart. Core builds it (electron/core/ml/doctor.ts); its TypeScript types must fit these.
 */
import { z } from 'zod';
import { BACKEND_CANDIDATES, BACKEND_NAMES } from './names';

export { BACKEND_CANDIDATES };

export const DoctorReport = z.object({
  /** The backend `auto` picks for training here, with every attempt on the way. */
  chosen: z.object({
    name: z.enum(BACKEND_NAMES),
    device: z.string(),
    simd: z.boolean(),
    threads: z.boolean(),
    tried: z.array(z.object({ name: z.enum(BACKEND_CANDIDATES), ok: z.boolean(), error: z.string().optional() })),
  }),
  backends: z.array(
    z.object({
      name: z.enum(BACKEND_CANDIDATES),
      package: z.string(),
      installed: z.boolean(),
      loads: z.boolean(),
      device: z.string().nullable(),
      error: z.string().optional(),
    }),
  ),
  wasm: z.object({ simd: z.boolean(), threads: z.boolean() }),
  cuda: z.object({
    platform: z.string(),
    gpus: z.array(z.object({ name: z.string(), driver: z.string(), memoryMiB: z.number() })).nullable(),
    libraries: z.array(z.object({ name: z.string(), path: z.string().nullable() })),
    otherVersions: z.array(z.string()),
    gpuReady: z.boolean(),
    hint: z.string(),
  }),
  onnxRuntime: z.union([
    z.object({
      loads: z.literal(true),
      report: z.object({
        version: z.string(),
        providers: z.array(z.object({ name: z.string(), available: z.boolean(), detail: z.string() })),
        /** The provider the training engine (and inference) would use, and why the others would not. */
        trains: z.object({
          provider: z.string(),
          why: z.string(),
          others: z.array(z.object({ name: z.string(), whyNot: z.string() })),
        }),
        cudaHint: z.string().nullable(),
      }),
    }),
    z.object({ loads: z.literal(false), error: z.string() }),
  ]),
  weights: z.object({
    dir: z.string(),
    models: z.array(
      z.object({
        model: z.string(),
        pretrained: z.boolean(),
        present: z.boolean(),
        path: z.string().nullable(),
        format: z.enum(['h5', 'tfjs']).nullable(),
        source: z.enum(['fetched', 'imported']).nullable(),
        md5: z.string().nullable(),
        md5Verified: z.boolean().nullable(),
        keras: z.object({ fileName: z.string(), url: z.string(), md5: z.string() }).nullable(),
        alternatives: z.array(z.literal('nsfwjs')),
      }),
    ),
  }),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

type WeightsEntry = DoctorReport['weights']['models'][number];

/**
 * One model's pretrained weights in words, for `mask-studio doctor` and the Doctor view alike. A model whose
 * ImageNet file is missing but which trains offline from an installed alternative (InceptionV3 from nsfwjs)
 * is 'alternative', not 'missing': Train offers it, and Doctor said "missing" beside it.
 */
export function weightsStatus(w: WeightsEntry): { state: 'scratch' | 'present' | 'alternative' | 'missing'; text: string; fetch: string | null } {
  const fetch = `mask-studio weights fetch ${w.model}`;
  if (!w.pretrained) return { state: 'scratch', text: 'not pretrained (trained from scratch)', fetch: null };
  if (w.present) return { state: 'present', text: `present (${w.format ?? 'unknown format'}${w.md5Verified ? ', MD5 verified' : ''})`, fetch: null };
  if (w.alternatives.length > 0) {
    const alt = w.alternatives.join(', ');
    return { state: 'alternative', text: `trains offline with --weights ${alt} (the ${alt} package, installed); its ImageNet weights are missing`, fetch };
  }
  return { state: 'missing', text: 'missing', fetch };
}
