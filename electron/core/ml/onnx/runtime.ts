/**
 * ONNX Runtime sessions: created once per model (content hash) and options, graph optimisation on, the CPU
 * provider everywhere and CUDA where its provider library and a GPU are present.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { unpackedPath } from '../../asar';
import { disableOrtTelemetry, ensureOrtTelemetryOff } from './telemetry-off';

export type OnnxProvider = 'cpu' | 'cuda';

export interface OnnxSessionOptions {
  /** Threads for one operator. Default: the cores that are free when the session is created (defaultThreads). */
  threads?: number;
  /** 'auto' (default): CUDA when available, else CPU. */
  provider?: OnnxProvider | 'auto';
  /**
   * Let idle intra-op threads spin-wait for work (ONNX Runtime's default, true): fastest on an idle machine,
   * wasted cycles when other processes compete for the cores.
   */
  spinning?: boolean;
}

export interface OnnxSession {
  session: ort.InferenceSession;
  inputName: string;
  outputNames: readonly string[];
  provider: OnnxProvider;
  threads: number;
  key: string;
}

export interface ProviderReport {
  name: string;
  available: boolean;
  detail: string;
}

export interface OnnxRuntimeReport {
  version: string;
  providers: ProviderReport[];
  /** The provider a training run (and inference) would use here, and why; why not each other one. */
  trains: { provider: OnnxProvider; why: string; others: Array<{ name: string; whyNot: string }> };
  /** What a user must do to get the CUDA provider, when it is not available. */
  cudaHint: string | null;
}

// Not named `require`: the build's ESM shim declares that name in any chunk that mentions require(.
const nodeRequire = createRequire(import.meta.url);
// before anything can create a session in this process (see telemetry-off.ts: a long command line crashes it)
disableOrtTelemetry();

/** Whole-machine CPU time so far (ms): idle and total over every core. */
function machineTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

/**
 * The cores that are free now: all of them minus what other processes use, measured over `windowMs` (this
 * process's own work is not counted against it). On 2 cores beside another busy process, 1 ONNX Runtime
 * thread measured faster than 2, which spin-wait for a core the other process holds. The 1-minute load
 * average is the wrong signal: it lags, and counts this process's own last minute (a training run that just
 * finished extracting would give itself one thread on an idle machine).
 */
export async function defaultThreads(windowMs = 200): Promise<number> {
  const cores = Math.max(1, availableParallelism());
  const before = machineTimes();
  const ownBefore = process.cpuUsage();
  await new Promise((r) => setTimeout(r, windowMs));
  const after = machineTimes();
  const own = process.cpuUsage(ownBefore);
  return freeCores(cores, { idle: after.idle - before.idle, total: after.total - before.total }, (own.user + own.system) / 1000, windowMs);
}

/** Cores minus the cores other processes kept busy over a window (machine CPU ms, this process's CPU ms); at least 1. */
export function freeCores(cores: number, machine: { idle: number; total: number }, ownMs: number, windowMs: number): number {
  if (machine.total <= 0 || windowMs <= 0) return cores;
  const busyCores = (cores * (machine.total - machine.idle)) / machine.total;
  const others = Math.max(0, busyCores - ownMs / windowMs);
  return Math.min(cores, Math.max(1, cores - Math.round(others)));
}

function bindingDir(): string | null {
  try {
    const dist = dirname(nodeRequire.resolve('onnxruntime-node'));
    // The real folder in a packaged app (unpacked from the asar), where the provider libraries are looked for.
    const bin = unpackedPath(join(dist, '..', 'bin'));
    for (const napi of readdirSync(bin)) {
      const dir = join(bin, napi, process.platform, process.arch);
      if (existsSync(dir)) return dir;
    }
  } catch {
    // not installed: reported as such
  }
  return null;
}

function commandOutput(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout : null;
}

let cudaCache: { ok: boolean; detail: string } | null = null;

/** CUDA needs the provider library (downloaded by onnxruntime-node's install script) and a working GPU. */
function cudaStatus(): { ok: boolean; detail: string } {
  if (cudaCache) return cudaCache;
  const dir = bindingDir();
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  const hasLib = dir !== null && existsSync(join(dir, lib));
  const gpus = commandOutput('nvidia-smi', ['-L']);
  const gpu = gpus?.split('\n').find((l) => l.startsWith('GPU')) ?? null;
  const missing: string[] = [];
  if (!hasLib) missing.push(`${lib} (onnxruntime-node was installed without its CUDA binaries)`);
  if (!gpu) missing.push('an NVIDIA GPU (nvidia-smi found none)');
  cudaCache = {
    ok: missing.length === 0,
    detail: missing.length === 0 ? `provider library present; ${gpu ?? ''}` : `missing: ${missing.join('; ')}`,
  };
  return cudaCache;
}

/** For `doctor`: ONNX Runtime's version, its providers and whether each can run here. */
export function onnxruntimeProviders(): OnnxRuntimeReport {
  const supported = ort.listSupportedBackends();
  const cuda = cudaStatus();
  const providers = supported.map((s): ProviderReport => {
    if (s.name === 'cpu') return { name: 'cpu', available: true, detail: 'bundled' };
    if (s.name === 'cuda') return { name: 'cuda', available: cuda.ok, detail: cuda.detail };
    return { name: s.name, available: false, detail: s.bundled ? 'bundled; not used by Mask Studio' : 'not installed' };
  });
  const provider: OnnxProvider = cuda.ok ? 'cuda' : 'cpu';
  const others = [...providers.map((p) => p.name), ...(process.platform === 'win32' ? ['dml'] : []), ...(process.platform === 'darwin' ? ['coreml'] : [])]
    .filter((name, i, all) => name !== provider && all.indexOf(name) === i)
    .map((name) => ({
      name,
      whyNot:
        name === 'cpu'
          ? 'CUDA is available and faster'
          : name === 'cuda'
            ? cuda.detail
            : `${supported.some((s) => s.name === name && s.bundled) ? 'in this build of onnxruntime-node, ' : 'not in this build of onnxruntime-node; '}not used by Mask Studio yet`,
    }));
  return {
    version: ort.env.versions.node ?? ort.env.versions.common,
    providers,
    trains: { provider, why: provider === 'cuda' ? `an NVIDIA GPU and the CUDA provider library (${cuda.detail})` : 'bundled; runs everywhere', others },
    cudaHint: cuda.ok
      ? null
      : 'CUDA 12 and cuDNN 9 on an NVIDIA GPU, then with internet: npm rebuild onnxruntime-node --onnxruntime-node-install=true',
  };
}

export function resolveProvider(p: OnnxSessionOptions['provider']): OnnxProvider {
  if (p === 'cpu') return 'cpu';
  if (p === 'cuda') {
    const s = cudaStatus();
    if (!s.ok) throw new Error(`ONNX Runtime CUDA provider unavailable: ${s.detail}`);
    return 'cuda';
  }
  return cudaStatus().ok ? 'cuda' : 'cpu';
}

interface Entry {
  pending: Promise<OnnxSession>;
  refs: number;
  lastUsed: number;
}

const sessions = new Map<string, Entry>();
/** Sessions nobody holds that stay loaded for the next caller (a predict after a train, the next epoch…). */
const MAX_IDLE = 3;
let clock = 0;

/**
 * A cached session for an ONNX model (a file path or its bytes). The key is the model's sha256 (the input
 * size is part of the graph) plus provider and threads, so the same model from a path or from memory shares
 * one session. Every getSession is paired with a releaseSession: a released session stays cached while
 * idle, up to a few, then the least recently used ones are freed.
 */
export async function getSession(model: string | Uint8Array, opts: OnnxSessionOptions = {}): Promise<OnnxSession> {
  const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
  const threads = opts.threads ?? (await defaultThreads());
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer; received ${threads}`);
  const provider = resolveProvider(opts.provider);
  const spinning = opts.spinning ?? true;
  const key = `${createHash('sha256').update(bytes).digest('hex')}:${provider}:${threads}:${spinning ? 'spin' : 'nospin'}`;
  let entry = sessions.get(key);
  if (!entry) {
    const pending = createSession(bytes, provider, threads, spinning, key);
    entry = { pending, refs: 0, lastUsed: 0 };
    sessions.set(key, entry);
    // a failed creation must not stay cached
    pending.catch(() => sessions.delete(key));
  }
  entry.refs++;
  entry.lastUsed = ++clock;
  return entry.pending;
}

export async function releaseSession(s: OnnxSession): Promise<void> {
  const entry = sessions.get(s.key);
  if (!entry) return;
  entry.refs = Math.max(0, entry.refs - 1);
  const idle = [...sessions.entries()].filter(([, e]) => e.refs === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
  for (const [key, e] of idle.slice(0, Math.max(0, idle.length - MAX_IDLE))) {
    sessions.delete(key);
    const done = await e.pending.catch(() => null);
    if (done) await done.session.release();
  }
}

/**
 * Every ONNX Runtime session Mask Studio creates (inference, the training and eval graphs) starts here:
 * telemetry is off before the session creates ONNX Runtime's environment (see telemetry-off.ts).
 */
export async function newOrtSession(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  ensureOrtTelemetryOff();
  return ort.InferenceSession.create(bytes, options);
}

/** The options every Mask Studio session is created with (the training sessions too). */
export function sessionOptions(provider: OnnxProvider, threads: number, spinning: boolean): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

async function createSession(
  bytes: Uint8Array,
  provider: OnnxProvider,
  threads: number,
  spinning: boolean,
  key: string,
): Promise<OnnxSession> {
  const session = await newOrtSession(bytes, sessionOptions(provider, threads, spinning));
  const inputName = session.inputNames[0];
  if (inputName === undefined || session.inputNames.length !== 1) {
    await session.release();
    throw new Error(`ONNX model must have exactly one input; it has ${session.inputNames.length}`);
  }
  return { session, inputName, outputNames: session.outputNames, provider, threads, key };
}

/** Frees every cached session, held or not (tests, and before the process exits). */
export async function releaseSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const e of all) {
    const s = await e.pending.catch(() => null);
    if (s) await s.session.release();
  }
}

/** Sessions currently loaded (for tests and the doctor report). */
export function cachedSessionCount(): number {
  return sessions.size;
}

/** Runs one float32 NHWC batch; returns the first output's data and dims. */
export async function runBatch(
  s: OnnxSession,
  data: Float32Array,
  dims: readonly number[],
  outputName?: string,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const feeds = { [s.inputName]: new ort.Tensor('float32', data, dims) };
  const name = outputName ?? s.outputNames[0];
  if (name === undefined) throw new Error('ONNX model has no output');
  const results = await s.session.run(feeds, [name]);
  const out = results[name];
  if (!out || out.type !== 'float32' || !(out.data instanceof Float32Array)) {
    throw new Error(`ONNX output ${name} is not a float32 tensor`);
  }
  return { data: out.data, dims: out.dims };
}
