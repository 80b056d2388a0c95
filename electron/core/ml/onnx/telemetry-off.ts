/**
 * ONNX Runtime's telemetry, off before its environment exists. Since 1.29 ONNX Runtime on Linux and macOS
 * starts Microsoft's 1DS telemetry client when the first session creates its environment; in 1.30 that
 * client reads /proc/self/cmdline and runs a std::regex over it, which recurses about three native frames
 * per byte of the command line on the calling thread. Past ~28.9 KB of arguments (525 absolute image paths)
 * the main thread's 8 MB stack overflows: SIGSEGV, exit 139, no message. A worker thread's smaller stack
 * overflows sooner. ONNX Runtime's own opt-out skips the client entirely (no command line read, no device
 * id, no upload to Microsoft, no /tmp/mat-debug-PID.log), which a tool holding people's photos wants anyway.
 *
 * ONNX Runtime reads the variable with getenv when the first session is created, and latches it. Only the
 * main thread's process.env reaches the C environment (a worker's is its own copy), so the main thread sets
 * it: for itself, and before it starts any worker that may create a session.
 */
import { isMainThread } from 'node:worker_threads';

/** 1.29–1.30 read ORT_DISABLE_TELEMETRY; newer sources read ORT_TELEMETRY_DISABLED. Both, to survive an upgrade. */
const VARIABLES = ['ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED'] as const;

/** Sets the opt-out in this process's environment (main thread only; a no-op in a worker). */
export function disableOrtTelemetry(): void {
  if (!isMainThread) return;
  for (const v of VARIABLES) process.env[v] = '1';
}

/**
 * Call before creating a session. The main thread sets the opt-out; a worker cannot, so it refuses to
 * create a session its parent did not prepare (an error the caller can fall back from, not a segfault).
 */
export function ensureOrtTelemetryOff(): void {
  disableOrtTelemetry();
  if (VARIABLES.some((v) => process.env[v] !== '1')) {
    throw new Error(
      'ONNX Runtime in a worker thread whose parent did not turn its telemetry off (call disableOrtTelemetry() before new Worker): ' +
        'a long command line would crash the process',
    );
  }
}
