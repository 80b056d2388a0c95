/**
 * The optimizers in the graph, with TensorFlow.js's exact update rules (tfjs-core's MomentumOptimizer and
 * AdamOptimizer: the same operations in the same order, constants rounded to float32 as tfjs's scalars are):
 *   momentum: acc ← m·acc + g;  w ← (−lr)·acc + w                      (Nesterov off, as train-loop uses it)
 *             (where g is a Gemm, a Dense kernel's gradient, acc ← Gemm(…, C = acc, β = m): the same sum, m·acc
 *             added to the product as the GEMM writes it instead of in two more passes over the weight)
 *   Adam:     m ← m·β1 + g·(1−β1);  v ← v·β2 + g²·(1−β2);
 *             w ← (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε) · (−lr) + w;  β1^t ← β1^t·β1 (starts at β1)
 * with ε = the backend's epsilon (1e-7 on every float32 backend).
 */
import type { AttrValue, GraphBuilder } from '../graph-builder';
import type { GemmForm } from './layers';

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
  /** The current value of a weight or state slot (a graph input, or an earlier micro-step's result). */
  current(name: string): string;
  /** Names the next value of a weight or slot: the graph output `nextName(name)` after the last micro-step. */
  next(name: string): { out: string; exact: boolean };
  /** Records where the next value of a weight or slot now is. */
  advance(name: string, value: string): void;
  /** The Gemm a gradient is, when it is one (its own node then goes unused and is dropped). */
  gemmForm?(grad: string): GemmForm | undefined;
}

/** Emits the update of every weight from its gradient (and of the optimizer's state). */
export function emitUpdates(ctx: UpdateContext, opt: OptimizerSpec, grads: ReadonlyArray<[string, string]>): void {
  const { b } = ctx;
  const put = (opType: string, inputs: string[], name: string, attrs: Record<string, AttrValue> = {}): string => {
    const n = ctx.next(name);
    return b.node(opType, inputs, n.out, attrs, n.exact);
  };
  const updates: Array<[string, string]> = [];
  if (opt.kind === 'sgd') {
    const m = ctx.scalar(opt.momentum);
    for (const [w, g] of grads) {
      const slot = `${w}/momentum`;
      // a gradient that is a Gemm (a Dense kernel's) takes m·acc as its C: one pass over the weight instead of three
      const form = ctx.gemmForm?.(g);
      const acc = form
        ? put('Gemm', [...form.inputs, ctx.current(slot)], slot, { ...form.attrs, beta: { float: opt.momentum } })
        : put('Add', [b.node('Mul', [m, ctx.current(slot)], `${w}_macc`), g], slot);
      updates.push([slot, acc], [w, put('Add', [b.node('Mul', [ctx.negLr, acc], `${w}_step`), ctx.current(w)], w)]);
    }
  } else {
    const b1 = ctx.scalar(opt.beta1);
    const b2 = ctx.scalar(opt.beta2);
    const c1 = ctx.scalar(1 - opt.beta1);
    const c2 = ctx.scalar(1 - opt.beta2);
    const one = ctx.scalar(1);
    const eps = ctx.scalar(opt.epsilon);
    const p1 = ctx.current('adam/beta1_power');
    const p2 = ctx.current('adam/beta2_power');
    const corr1 = b.node('Sub', [one, p1], 'adam_corr1');
    const corr2 = b.node('Sub', [one, p2], 'adam_corr2');
    for (const [w, g] of grads) {
      const m = put('Add', [b.node('Mul', [ctx.current(`${w}/m`), b1], `${w}_m_decay`), b.node('Mul', [g, c1], `${w}_m_in`)], `${w}/m`);
      const sq = b.node('Mul', [g, g], `${w}_g2`);
      const v = put('Add', [b.node('Mul', [ctx.current(`${w}/v`), b2], `${w}_v_decay`), b.node('Mul', [sq, c2], `${w}_v_in`)], `${w}/v`);
      const mHat = b.node('Div', [m, corr1], `${w}_mhat`);
      const vHat = b.node('Div', [v, corr2], `${w}_vhat`);
      const denom = b.node('Add', [b.node('Sqrt', [vHat], `${w}_vsqrt`), eps], `${w}_denom`);
      const step = b.node('Mul', [b.node('Div', [mHat, denom], `${w}_ratio`), ctx.negLr], `${w}_step`);
      updates.push([`${w}/m`, m], [`${w}/v`, v], [w, put('Add', [step, ctx.current(w)], w)]);
    }
    updates.push(['adam/beta1_power', put('Mul', [p1, b1], 'adam/beta1_power')], ['adam/beta2_power', put('Mul', [p2, b2], 'adam/beta2_power')]);
  }
  // the gradients were all taken from the weights before this step's update: advance only now
  for (const [name, value] of updates) ctx.advance(name, value);
}
