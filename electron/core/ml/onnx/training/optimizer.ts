/**
 * The optimizers in the graph, with TensorFlow.js's exact update rules (tfjs-core's MomentumOptimizer and
 * AdamOptimizer: the same operations in the same order, constants rounded to float32 as tfjs's scalars are):
 *   momentum: acc ← m·acc + g;  w ← (−lr)·acc + w                      (Nesterov off, as train-loop uses it)
 *   Adam:     m ← m·β1 + g·(1−β1);  v ← v·β2 + g²·(1−β2);
 *             w ← (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε) · (−lr) + w;  β1^t ← β1^t·β1 (starts at β1)
 * with ε = the backend's epsilon (1e-7 on every float32 backend).
 */
import type { GraphBuilder } from '../graph-builder';

export type OptimizerSpec = { kind: 'sgd'; momentum: number } | { kind: 'adam'; beta1: number; beta2: number; epsilon: number };

export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

/** A state tensor the graph reads and writes: per weight, or a scalar shared by all (Adam's β powers). */
export interface StateSlot {
  name: string;
  /** The weight it belongs to; null for the shared scalars. */
  param: string | null;
  shape: number[];
  /** Its value before the first step. */
  init: number;
}

export function stateSlots(opt: OptimizerSpec, params: ReadonlyArray<{ name: string; graphShape: number[] }>): StateSlot[] {
  if (opt.kind === 'sgd') return params.map((p) => ({ name: `${p.name}/momentum`, param: p.name, shape: p.graphShape, init: 0 }));
  return [
    ...params.flatMap((p) => [
      { name: `${p.name}/m`, param: p.name, shape: p.graphShape, init: 0 },
      { name: `${p.name}/v`, param: p.name, shape: p.graphShape, init: 0 },
    ]),
    { name: 'adam/beta1_power', param: null, shape: [], init: opt.beta1 },
    { name: 'adam/beta2_power', param: null, shape: [], init: opt.beta2 },
  ];
}

/** The name a graph output takes for the next value of input `name` (a weight or a state slot). */
export const nextName = (name: string): string => `${name}:next`;

export interface UpdateContext {
  b: GraphBuilder;
  scalar(v: number): string;
  /** The graph input holding −lr. */
  negLr: string;
}

/** Emits the update of every weight from its gradient; writes outputs `nextName(weight)` and `nextName(slot)`. */
export function emitUpdates(ctx: UpdateContext, opt: OptimizerSpec, grads: ReadonlyArray<[string, string]>): void {
  const { b } = ctx;
  if (opt.kind === 'sgd') {
    const m = ctx.scalar(opt.momentum);
    for (const [w, g] of grads) {
      const acc = b.node('Add', [b.node('Mul', [m, `${w}/momentum`], `${w}_macc`), g], nextName(`${w}/momentum`), {}, true);
      b.node('Add', [b.node('Mul', [ctx.negLr, acc], `${w}_step`), w], nextName(w), {}, true);
    }
    return;
  }
  const b1 = ctx.scalar(opt.beta1);
  const b2 = ctx.scalar(opt.beta2);
  const c1 = ctx.scalar(1 - opt.beta1);
  const c2 = ctx.scalar(1 - opt.beta2);
  const one = ctx.scalar(1);
  const eps = ctx.scalar(opt.epsilon);
  const corr1 = b.node('Sub', [one, 'adam/beta1_power'], 'adam_corr1');
  const corr2 = b.node('Sub', [one, 'adam/beta2_power'], 'adam_corr2');
  for (const [w, g] of grads) {
    const m = b.node('Add', [b.node('Mul', [`${w}/m`, b1], `${w}_m_decay`), b.node('Mul', [g, c1], `${w}_m_in`)], nextName(`${w}/m`), {}, true);
    const sq = b.node('Mul', [g, g], `${w}_g2`);
    const v = b.node('Add', [b.node('Mul', [`${w}/v`, b2], `${w}_v_decay`), b.node('Mul', [sq, c2], `${w}_v_in`)], nextName(`${w}/v`), {}, true);
    const mHat = b.node('Div', [m, corr1], `${w}_mhat`);
    const vHat = b.node('Div', [v, corr2], `${w}_vhat`);
    const denom = b.node('Add', [b.node('Sqrt', [vHat], `${w}_vsqrt`), eps], `${w}_denom`);
    const step = b.node('Mul', [b.node('Div', [mHat, denom], `${w}_ratio`), ctx.negLr], `${w}_step`);
    b.node('Add', [step, w], nextName(w), {}, true);
  }
  b.node('Mul', ['adam/beta1_power', b1], nextName('adam/beta1_power'), {}, true);
  b.node('Mul', ['adam/beta2_power', b2], nextName('adam/beta2_power'), {}, true);
}
