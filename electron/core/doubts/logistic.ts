/**
 * L2-regularised binary logistic regression on standardised feature vectors, in plain TypeScript: the
 * out-of-fold classifier of the label doubts. A convex problem solved to convergence (L-BFGS), so a fold's
 * model depends on its data only, not on a learning rate, epochs or an initialisation.
 *
 * Minimises mean_i logloss(σ(w·x_i + b), y_i) + (l2 / 2)·|w|² (the bias is not penalised).
 */

export interface LogisticModel {
  w: Float64Array;
  b: number;
  iterations: number;
}

export interface LogisticOptions {
  l2: number;
  maxIterations?: number;
  /** Stop when the gradient's largest component is below this. */
  tolerance?: number;
  /** Warm start (e.g. the solution for a stronger l2). */
  init?: LogisticModel;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
/** log(1 + e^z) without overflow. */
const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

/** Rows of x as one flat array (n × d), row-major. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export function toMatrix(rows: readonly Float32Array[], cols: number): Matrix {
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new RangeError(`row ${i} has ${r.length} values, expected ${cols}`);
    data.set(r, i * cols);
  });
  return { data, rows: rows.length, cols };
}

/** Objective and gradient at theta = [w (d), b]. */
function evaluate(x: Matrix, y: ArrayLike<number>, l2: number, theta: Float64Array, grad: Float64Array): number {
  const { data, rows: n, cols: d } = x;
  grad.fill(0);
  let loss = 0;
  const b = theta[d] ?? 0;
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let z = b;
    for (let j = 0; j < d; j++) z += (theta[j] ?? 0) * (data[off + j] ?? 0);
    const yi = y[i] ?? 0;
    // logloss(σ(z), y) = softplus(z) − y·z
    loss += softplus(z) - yi * z;
    const r = (sigmoid(z) - yi) / n;
    for (let j = 0; j < d; j++) grad[j] = (grad[j] ?? 0) + r * (data[off + j] ?? 0);
    grad[d] = (grad[d] ?? 0) + r;
  }
  loss /= n;
  let reg = 0;
  for (let j = 0; j < d; j++) {
    const t = theta[j] ?? 0;
    reg += t * t;
    grad[j] = (grad[j] ?? 0) + l2 * t;
  }
  return loss + (l2 / 2) * reg;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** L-BFGS's last `memory` steps s and gradient changes y, with ρ = 1 / (s·y). */
class LbfgsHistory {
  readonly s: Float64Array[] = [];
  readonly y: Float64Array[] = [];
  readonly rho: number[] = [];
  constructor(readonly memory: number) {}

  clear(): void {
    this.s.length = 0;
    this.y.length = 0;
    this.rho.length = 0;
  }

  /** Keeps the pair only when it carries curvature (s·y > 0), dropping the oldest past `memory`. */
  push(s: Float64Array, y: Float64Array): void {
    const sy = dot(s, y);
    if (!(sy > 1e-12)) return;
    if (this.s.length === this.memory) {
      this.s.shift();
      this.y.shift();
      this.rho.shift();
    }
    this.s.push(s);
    this.y.push(y);
    this.rho.push(1 / sy);
  }

  /** The two-loop recursion: H·grad, H the inverse Hessian the history approximates. */
  apply(grad: Float64Array): Float64Array {
    const { s, y, rho } = this;
    const dim = grad.length;
    const q = Float64Array.from(grad);
    const alpha = new Float64Array(s.length);
    for (let k = s.length - 1; k >= 0; k--) {
      const a = rho[k]! * dot(s[k]!, q);
      alpha[k] = a;
      const yk = y[k]!;
      for (let j = 0; j < dim; j++) q[j] = q[j]! - a * yk[j]!;
    }
    if (s.length > 0) {
      const gamma = dot(s.at(-1)!, y.at(-1)!) / dot(y.at(-1)!, y.at(-1)!);
      for (let j = 0; j < dim; j++) q[j] = q[j]! * gamma;
    } else {
      // first step: a unit step along the gradient would overshoot on badly scaled problems
      const g = Math.sqrt(dot(grad, grad));
      for (let j = 0; j < dim; j++) q[j] = q[j]! / Math.max(1, g);
    }
    for (let k = 0; k < s.length; k++) {
      const b = rho[k]! * dot(y[k]!, q);
      const sk = s[k]!;
      for (let j = 0; j < dim; j++) q[j] = q[j]! + sk[j]! * (alpha[k]! - b);
    }
    return q;
  }
}

/**
 * Backtracking (Armijo) from a unit step along −q: writes the point into `nextTheta` and its gradient into
 * `nextGrad`, and returns its loss (which may not be below f when no step helps at double precision).
 */
function lineSearch(
  loss: (theta: Float64Array, grad: Float64Array) => number,
  theta: Float64Array,
  f: number,
  q: Float64Array,
  slope: number,
  nextTheta: Float64Array,
  nextGrad: Float64Array,
): number {
  let step = 1;
  let fNext = Infinity;
  for (let tries = 0; tries < 40; tries++) {
    for (let j = 0; j < theta.length; j++) nextTheta[j] = theta[j]! - step * q[j]!;
    fNext = loss(nextTheta, nextGrad);
    if (fNext <= f + 1e-4 * step * slope) break;
    step /= 2;
  }
  return fNext;
}

/** L-BFGS (memory 10) with a backtracking Armijo line search. */
export function fitLogistic(x: Matrix, y: ArrayLike<number>, opts: LogisticOptions): LogisticModel {
  const d = x.cols;
  if (y.length !== x.rows) throw new RangeError(`${y.length} labels for ${x.rows} rows`);
  if (!(opts.l2 > 0)) throw new RangeError(`l2 must be positive; received ${opts.l2}`);
  const maxIter = opts.maxIterations ?? 500;
  const tol = opts.tolerance ?? 1e-5;
  const dim = d + 1;
  const loss = (theta: Float64Array, grad: Float64Array): number => evaluate(x, y, opts.l2, theta, grad);
  let theta = new Float64Array(dim);
  if (opts.init) {
    theta.set(opts.init.w);
    theta[d] = opts.init.b;
  }
  let grad = new Float64Array(dim);
  let f = loss(theta, grad);
  const history = new LbfgsHistory(10);
  let iter = 0;
  const nextTheta = new Float64Array(dim);
  const nextGrad = new Float64Array(dim);
  for (; iter < maxIter && maxAbs(grad) > tol; iter++) {
    let q = history.apply(grad);
    let slope = -dot(grad, q);
    if (!(slope < 0)) {
      // not a descent direction (numerical trouble): restart from steepest descent
      history.clear();
      q = Float64Array.from(grad);
      slope = -dot(grad, q);
    }
    const fNext = lineSearch(loss, theta, f, q, slope, nextTheta, nextGrad);
    if (!(fNext <= f)) break; // no progress possible at double precision
    const s = new Float64Array(dim);
    const yv = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      s[j] = nextTheta[j]! - theta[j]!;
      yv[j] = nextGrad[j]! - grad[j]!;
    }
    history.push(s, yv);
    const converged = f - fNext <= 1e-12 * Math.max(1, Math.abs(f));
    theta = Float64Array.from(nextTheta);
    grad = Float64Array.from(nextGrad);
    f = fNext;
    if (converged) {
      iter++;
      break;
    }
  }
  return { w: theta.slice(0, d), b: theta[d] ?? 0, iterations: iter };
}

/** σ(w·x + b) for each row. */
export function predictLogistic(model: LogisticModel, x: Matrix): Float64Array {
  const { data, rows: n, cols: d } = x;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = model.b;
    const off = i * d;
    for (let j = 0; j < d; j++) z += (model.w[j] ?? 0) * (data[off + j] ?? 0);
    out[i] = sigmoid(z);
  }
  return out;
}
