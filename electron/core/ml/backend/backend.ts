/**
 * Chooses the TensorFlow.js backend at run time, best first: `tensorflow` with CUDA
 * (@tensorflow/tfjs-node-gpu), `tensorflow` on the CPU (@tensorflow/tfjs-node), `wasm` (with our
 * gradient kernels, see ./kernels) and `cpu`. The two native packages are optional dependencies that may be
 * missing, so they are only ever imported dynamically.
 *
 * tfjs-node-gpu 4.x is built on libtensorflow 2.9.1, which needs CUDA 11.2 and cuDNN 8.1; with any other
 * CUDA it loads and silently runs on the CPU. `probeBackends()` and `detectCuda()` say what was found.
 */
import * as tf from '@tensorflow/tfjs';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { unpackedPath } from '../../asar';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

/** One way to get a backend, in the order `auto` tries them. */
export type BackendCandidate = 'tensorflow-gpu' | 'tensorflow-cpu' | 'wasm' | 'cpu';

export interface BackendAttempt {
  name: BackendCandidate;
  ok: boolean;
  error?: string;
}

export interface BackendInfo {
  name: BackendName;
  /** What runs the maths, e.g. "GPU: NVIDIA T4", "CPU (libtensorflow)", "CPU (wasm SIMD)". */
  device: string;
  simd: boolean;
  threads: boolean;
  tried: BackendAttempt[];
}

export interface BackendProbe {
  name: BackendCandidate;
  package: string;
  installed: boolean;
  loads: boolean;
  device: string | null;
  error?: string;
}

export interface CudaReport {
  platform: NodeJS.Platform;
  /** nvidia-smi's answer, or null where it is absent or fails. */
  gpus: Array<{ name: string; driver: string; memoryMiB: number }> | null;
  /** The libraries libtensorflow 2.9.1 loads for the GPU, each with where it was found (null: missing). */
  libraries: Array<{ name: string; path: string | null }>;
  /** Other CUDA runtimes / cuDNN versions on the library path (the "silently on the CPU" case). */
  otherVersions: string[];
  gpuReady: boolean;
  hint: string;
}

export interface DoctorBackends {
  backends: BackendProbe[];
  wasm: { simd: boolean; threads: boolean };
  cuda: CudaReport;
}

const PACKAGES: Record<BackendCandidate, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  'tensorflow-cpu': '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

const ORDER: Record<BackendPreference, BackendCandidate[]> = {
  auto: ['tensorflow-gpu', 'tensorflow-cpu', 'wasm', 'cpu'],
  tensorflow: ['tensorflow-gpu', 'tensorflow-cpu'],
  wasm: ['wasm'],
  cpu: ['cpu'],
};

// Not named `require`: the build's ESM shim declares that name in any chunk that mentions require(.
const nodeRequire = createRequire(import.meta.url);
const run = promisify(execFile);

let current: { pref: BackendPreference; info: Promise<BackendInfo> } | null = null;

/**
 * Makes the best available backend (of those `pref` allows) the active one and says which it is.
 * Idempotent: a second call with the same preference returns the first answer. An explicit preference
 * that cannot load is an error naming every attempt; `auto` always ends on `cpu` at worst.
 */
export function initBackend(pref: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (current !== null && current.pref === pref) return current.info;
  const info = choose(pref);
  current = { pref, info };
  info.catch(() => {
    if (current?.info === info) current = null;
  });
  return info;
}

async function choose(pref: BackendPreference): Promise<BackendInfo> {
  const tried: BackendAttempt[] = [];
  for (const name of ORDER[pref]) {
    try {
      const chosen = await activate(name);
      tried.push({ name, ok: true });
      return { ...chosen, tried };
    } catch (err) {
      tried.push({ name, ok: false, error: message(err) });
    }
  }
  const detail = tried.map((t) => `${t.name}: ${t.error ?? 'failed'}`).join('; ');
  throw new Error(`no TensorFlow.js backend could be loaded for --backend ${pref} (${detail})`);
}

type Chosen = Omit<BackendInfo, 'tried'>;

async function activate(name: BackendCandidate): Promise<Chosen> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow-cpu':
      return activateNative(name);
    case 'wasm':
      return activateWasm();
    case 'cpu':
      await setBackend('cpu');
      return { name: 'cpu', device: 'CPU (JavaScript)', simd: false, threads: false };
  }
}

async function activateNative(name: 'tensorflow-gpu' | 'tensorflow-cpu'): Promise<Chosen> {
  // Both packages register the backend "tensorflow" and cannot be unloaded: whichever loaded first serves
  // the CPU attempt too (tfjs-node-gpu without a usable GPU is libtensorflow on the CPU).
  if (nativeLoaded === null) {
    if (name === 'tensorflow-gpu') await importOptional(PACKAGES[name]);
    else await importOptional(PACKAGES[name]).catch(async (err: unknown) => {
      if (!isInstalled(PACKAGES['tensorflow-gpu'])) throw err;
      await importOptional(PACKAGES['tensorflow-gpu']);
    });
    nativeLoaded = name;
  }
  await setBackend('tensorflow');
  const gpu = usesGpu(tf.backend());
  if (name === 'tensorflow-gpu' && !gpu) {
    const cuda = await detectCuda();
    throw new Error(`${PACKAGES[name]} loaded but found no usable GPU (${cuda.hint})`);
  }
  const device = gpu ? `GPU: ${(await gpuNames()) ?? 'CUDA device'}` : 'CPU (libtensorflow)';
  return { name: 'tensorflow', device, simd: false, threads: true };
}

let nativeLoaded: 'tensorflow-gpu' | 'tensorflow-cpu' | null = null;

/** tfjs-node's backend says whether libtensorflow placed ops on a GPU. */
function usesGpu(backend: unknown): boolean {
  if (typeof backend !== 'object' || backend === null) return false;
  const b = backend as Record<string, unknown>;
  return b.isUsingGpuDevice === true;
}

let wasmPathsSet = false;

async function activateWasm(): Promise<Chosen> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    // Threads need cross-origin isolation in a browser and are not supported by the backend in Node.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setWasmPaths(wasmFiles());
    wasmPathsSet = true;
  }
  const { registerWasmTrainingKernels } = await import('./kernels');
  registerWasmTrainingKernels();
  await setBackend('wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = wasm.getThreadsCount() > 1;
  return { name: 'wasm', device: `CPU (wasm${simd ? ' SIMD' : ''}${threads ? ', threads' : ''})`, simd, threads };
}

/** The three .wasm binaries, located in node_modules (the backend's own guess fails once bundled). */
function wasmFiles(): Record<string, string> {
  // In a packaged app they are unpacked from the asar (electron-builder.json): hand the loader the real files.
  const dir = unpackedPath(dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')));
  const names = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  return Object.fromEntries(names.map((n) => [n, join(dir, n)]));
}

async function setBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}

async function importOptional(pkg: string): Promise<unknown> {
  try {
    nodeRequire.resolve(pkg);
  } catch {
    throw new Error(`${pkg} is not installed`);
  }
  // A variable specifier keeps bundlers and the type checker from requiring the optional package.
  const specifier: string = pkg;
  return import(specifier);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? String(err) : String(err);
}

/**
 * For `mask-studio doctor`: each backend (installed? loads? on which device?), the wasm flags and the
 * CUDA findings. Loading a native package is a side effect that stays (it cannot be unloaded); the active
 * backend is put back afterwards.
 */
export async function probeBackends(): Promise<DoctorBackends> {
  const before = tf.getBackend();
  const backends: BackendProbe[] = [];
  for (const name of ORDER.auto) {
    const pkg = PACKAGES[name];
    const installed = isInstalled(pkg);
    if (!installed) {
      backends.push({ name, package: pkg, installed, loads: false, device: null, error: `${pkg} is not installed` });
      continue;
    }
    try {
      const chosen = await activate(name);
      backends.push({ name, package: pkg, installed, loads: true, device: chosen.device });
    } catch (err) {
      backends.push({ name, package: pkg, installed, loads: false, device: null, error: message(err) });
    }
  }
  if (before) await tf.setBackend(before);
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  return { backends, wasm: { simd, threads }, cuda: await detectCuda() };
}

/** Whether a native TensorFlow package is installed ('auto' tries it before wasm); nothing is loaded. */
export function nativeBackendInstalled(): boolean {
  return isInstalled(PACKAGES['tensorflow-cpu']) || isInstalled(PACKAGES['tensorflow-gpu']);
}

function isInstalled(pkg: string): boolean {
  try {
    nodeRequire.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** What libtensorflow 2.9.1's GPU build dlopens (CUDA 11.2 + cuDNN 8.1). */
const CUDA_LIBS: Record<'linux' | 'win32', string[]> = {
  linux: [
    'libcudart.so.11.0',
    'libcublas.so.11',
    'libcublasLt.so.11',
    'libcufft.so.10',
    'libcurand.so.10',
    'libcusolver.so.11',
    'libcusparse.so.11',
    'libcudnn.so.8',
  ],
  win32: ['cudart64_110.dll', 'cublas64_11.dll', 'cufft64_10.dll', 'curand64_10.dll', 'cusolver64_11.dll', 'cusparse64_11.dll', 'cudnn64_8.dll'],
};

export const GPU_HINT =
  'the GPU path needs an NVIDIA driver, @tensorflow/tfjs-node-gpu 4.x (libtensorflow 2.9.1), the CUDA 11.2 ' +
  'runtime (libcudart.so.11.0, cuBLAS 11, cuFFT 10, cuRAND 10, cuSOLVER 11, cuSPARSE 11) and cuDNN 8.1 ' +
  '(libcudnn.so.8) on the library path (ldconfig or LD_LIBRARY_PATH)';

export async function detectCuda(): Promise<CudaReport> {
  const platform = process.platform;
  const gpus = await nvidiaSmi();
  const wanted = platform === 'linux' || platform === 'win32' ? CUDA_LIBS[platform] : [];
  const dirs = libraryDirs();
  const index = await ldconfigIndex();
  const libraries = wanted.map((name) => ({ name, path: index.get(name) ?? findIn(dirs, name) }));
  const otherVersions = otherCudaVersions(dirs, index);
  const missing = libraries.filter((l) => l.path === null).map((l) => l.name);
  const gpuReady = gpus !== null && gpus.length > 0 && wanted.length > 0 && missing.length === 0;
  let hint: string;
  if (wanted.length === 0) hint = `no CUDA build of TensorFlow.js exists for ${platform}`;
  else if (gpuReady) hint = 'CUDA 11.2 and cuDNN 8.1 libraries found; install @tensorflow/tfjs-node-gpu to use the GPU';
  else {
    const parts: string[] = [];
    if (gpus === null) parts.push('nvidia-smi not found (no NVIDIA driver?)');
    if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
    if (otherVersions.length > 0) parts.push(`found other versions ${otherVersions.join(', ')}, which libtensorflow 2.9.1 ignores`);
    hint = `${parts.join('; ')}; ${GPU_HINT}`;
  }
  return { platform, gpus, libraries, otherVersions, gpuReady, hint };
}

async function nvidiaSmi(): Promise<CudaReport['gpus']> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits'], {
      timeout: 5000,
    });
    return stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .map((l) => {
        const [name = '', driver = '', mem = '0'] = l.split(',').map((p) => p.trim());
        return { name, driver, memoryMiB: Number(mem) || 0 };
      });
  } catch {
    return null;
  }
}

async function gpuNames(): Promise<string | null> {
  const gpus = await nvidiaSmi();
  return gpus !== null && gpus.length > 0 ? gpus.map((g) => g.name).join(', ') : null;
}

/** The dynamic linker's search path: LD_LIBRARY_PATH (PATH on Windows), ld.so.conf, the usual places. */
function libraryDirs(): string[] {
  const sep = process.platform === 'win32' ? ';' : ':';
  const env = process.platform === 'win32' ? process.env.PATH : process.env.LD_LIBRARY_PATH;
  const dirs = (env ?? '').split(sep).filter((d) => d.length > 0);
  if (process.platform === 'linux') {
    dirs.push(...ldSoConf('/etc/ld.so.conf', 0));
    dirs.push('/usr/local/cuda/lib64', '/usr/local/cuda-11.2/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64');
  }
  return [...new Set(dirs)];
}

function ldSoConf(file: string, depth: number): string[] {
  if (depth > 3 || !existsSync(file)) return [];
  const out: string[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line.length === 0) continue;
    const include = /^include\s+(.+)$/.exec(line);
    if (include?.[1] !== undefined) {
      const pattern = include[1];
      const dir = dirname(pattern);
      const suffix = pattern.endsWith('*.conf') ? '.conf' : '';
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).sort()) {
        if (suffix === '' || name.endsWith(suffix)) out.push(...ldSoConf(join(dir, name), depth + 1));
      }
    } else out.push(line);
  }
  return out;
}

/** `ldconfig -p`: the cache the loader really uses (name → path). Empty where unavailable. */
async function ldconfigIndex(): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  if (process.platform !== 'linux') return index;
  for (const cmd of ['ldconfig', '/sbin/ldconfig']) {
    try {
      const { stdout } = await run(cmd, ['-p'], { timeout: 5000, maxBuffer: 16 * 1024 * 1024 });
      for (const line of stdout.split('\n')) {
        const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
        if (m?.[1] !== undefined && m[2] !== undefined && !index.has(m[1])) index.set(m[1], m[2]);
      }
      return index;
    } catch {
      // try the next spelling
    }
  }
  return index;
}

function findIn(dirs: string[], name: string): string | null {
  for (const dir of dirs) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

function otherCudaVersions(dirs: string[], index: Map<string, string>): string[] {
  const pattern = /^(libcudart\.so\.\d+(\.\d+)?|libcudnn\.so\.\d+|cudart64_\d+\.dll|cudnn64_\d+\.dll)$/;
  const found = new Set<string>([...index.keys()].filter((n) => pattern.test(n)));
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    try {
      for (const name of readdirSync(dir)) if (pattern.test(name)) found.add(name);
    } catch {
      // unreadable directory: nothing to report from it
    }
  }
  const wanted = new Set([...CUDA_LIBS.linux, ...CUDA_LIBS.win32]);
  return [...found].filter((n) => !wanted.has(n)).sort();
}
