/**
 * A Conv2D whose input needs no gradient (the image, or a frozen part below it), its ReLU and a 2×2
 * stride-2 max pool, trained as one piece that never leaves the pooled size. The conv is computed as four
 * stride-2 convs, one per position ("phase") of the pool's window, and the pool is their elementwise
 * maximum. The backward gives each phase the pooled gradient where it held the window's first maximum in
 * row-major order (the element MaxPool's indices and TensorFlow.js pick), and the filter gradient is the
 * four phases' stride-2 filter gradients summed: the same values as conv → ReLU → MaxPool with indices →
 * MaxUnpool, without the two full-size operators. Those were ~15 % of a scratch CNN's step at 128 px on
 * ONNX Runtime (its MaxPool with indices runs ~7× slower than without).
 */
import { convColumns, filterGrad, reluGrad, type GValue, type LayerContext, type Saved } from './layers';
import { stepReaders, type Pads, type Step, type Window } from './plan';

type ConvStep = Extract<Step, { kind: 'conv' }>;
type PoolStep = Extract<Step, { kind: 'maxPool' }>;

/** The window positions in row-major order: the order MaxPool's indices break ties in. */
const PHASES: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];

export interface PhasePool {
  conv: ConvStep;
  relu: Step;
  pool: PoolStep;
  /** One stride-2 window per phase (PHASES order). */
  windows: Window[];
}

/** A phase's stride-2 window, or null when its output would not have exactly `out` rows and columns. */
function phaseWindow(conv: ConvStep, ph: number, pw: number): Window | null {
  const { kernel, pads } = conv.window;
  const [, hin = 0, win = 0] = conv.inShape;
  const [, h = 0, w = 0] = conv.outShape;
  const axis = (inSize: number, outSize: number, k: number, before: number, phase: number): [number, number] | null => {
    const top = before - phase;
    if (top < 0) return null;
    const rows = outSize / 2;
    const bottom = Math.max(0, 2 * (rows - 1) + k - top - inSize);
    return Math.floor((top + inSize + bottom - k) / 2) + 1 === rows ? [top, bottom] : null;
  };
  const v = axis(hin, h, kernel[0], pads[0], ph);
  const u = axis(win, w, kernel[1], pads[1], pw);
  if (!v || !u) return null;
  const p: Pads = [v[0], u[0], v[1], u[1]];
  return { kernel, strides: [2, 2], dilations: [1, 1], pads: p };
}

function isPool2x2(s: Step): s is PoolStep {
  return s.kind === 'maxPool' && s.window.kernel.every((k) => k === 2) && s.window.strides.every((k) => k === 2) && s.window.pads.every((p) => p === 0);
}

/**
 * The conv → ReLU → 2×2/2 max pool chains this applies to: a stride-1, undilated conv with at least one
 * row and column of padding before (the second phase starts one row in), an even output, its ReLU read
 * only by the pool and the conv's output only by the ReLU, and an input no gradient is asked of.
 */
export function findPhasePools(steps: readonly Step[], needsGrad: (value: string) => boolean): PhasePool[] {
  const readers = stepReaders(steps);
  const only = (value: string): Step | null => {
    const r = readers.get(value) ?? [];
    return r.length === 1 ? (r[0] ?? null) : null;
  };
  const found: PhasePool[] = [];
  for (const conv of steps) {
    if (conv.kind !== 'conv' || needsGrad(conv.input)) continue;
    const { strides, dilations } = conv.window;
    if (strides.some((s) => s !== 1) || dilations.some((d) => d !== 1)) continue;
    const relu = only(conv.output);
    if (!relu || relu.kind !== 'activation' || relu.activation !== 'relu') continue;
    const pool = only(relu.output);
    if (!pool || !isPool2x2(pool)) continue;
    const windows = PHASES.map(([ph, pw]) => phaseWindow(conv, ph, pw));
    if (windows.some((w) => w === null)) continue;
    found.push({ conv, relu, pool, windows: windows.filter((w): w is Window => w !== null) });
  }
  return found;
}

/** The pooled output; what the backward needs is kept in the Saved's extra (the phases and their maximum). */
export function phasePoolForward(ctx: LayerContext, pp: PhasePool, x: GValue): Saved {
  const { b } = ctx;
  const { conv } = pp;
  const n = conv.layer;
  const inputs = [x.name, ctx.param(conv.kernel), ...(conv.bias ? [ctx.param(conv.bias)] : [])];
  const extra: Record<string, string> = {};
  const phases = pp.windows.map((w, k) => {
    const z = b.node('Conv', inputs, `${n}_phase${k}`, { kernel_shape: w.kernel, strides: w.strides, dilations: w.dilations, pads: w.pads });
    extra[`z${k}`] = z;
    return z;
  });
  const top = b.tree('Max', phases, `${pp.pool.layer}_pre`);
  extra['top'] = top;
  const y = b.node('Relu', [top], pp.pool.layer);
  return { x, y: { name: y, shape: pp.pool.outShape }, extra };
}

/** The conv's kernel and bias gradients from the pool's output gradient `dy`. */
export function phasePoolBackward(ctx: LayerContext, pp: PhasePool, s: Saved, dy: string, trains: (param: string) => boolean): Array<[string, string]> {
  const { b } = ctx;
  const { conv } = pp;
  const n = conv.layer;
  const extra = s.extra ?? {};
  const saved = (key: string): string => {
    const v = extra[key];
    if (v === undefined) throw new Error(`internal: ${n} lost its ${key}`);
    return v;
  };
  const top = saved('top');
  // the ReLU passes the gradient where the window's maximum is positive
  const d = reluGrad(ctx, dy, s.y.name, `${n}_dpooled`);
  const params: Array<[string, string]> = [];
  if (conv.bias && trains(conv.bias)) params.push([conv.bias, b.node('ReduceSum', [d, ctx.ints([0, 2, 3])], `${n}_dbias`, { keepdims: 0 })]);
  if (!trains(conv.kernel)) return params;
  // each phase takes what the earlier phases left where it holds the maximum; the last takes the rest.
  // Products with a cast comparison, not Where: ONNX Runtime's Where runs several times slower.
  let rest = d;
  const parts: string[] = [];
  pp.windows.forEach((_, k) => {
    if (k === pp.windows.length - 1) {
      parts.push(rest);
      return;
    }
    const at = b.node('Cast', [b.node('Equal', [saved(`z${k}`), top], `${n}_at${k}`)], `${n}_at${k}_f`, { to: 1 });
    const part = b.node('Mul', [rest, at], `${n}_d${k}`);
    parts.push(part);
    rest = b.node('Sub', [rest, part], `${n}_rest${k}`);
  });
  const [c = 0] = s.x.shape;
  const [f = 0, ho = 0, wo = 0] = pp.pool.outShape;
  const grads = pp.windows.map((w, k) => {
    const cols = convColumns(ctx, n, s.x, w, `${n}_phase${k}_im2col`);
    return filterGrad(ctx, { name: `${n}_phase${k}`, channels: c, filters: f, kernel: w.kernel, positions: ho * wo }, cols, parts[k] ?? '');
  });
  params.push([conv.kernel, b.tree('Add', grads, `${n}_dkernel`)]);
  return params;
}
