/**
 * Whether the process that recorded a row (a run, a job) still exists. A pid alone is not enough: after a
 * kill -9 the system may hand the same pid to an unrelated process, which would keep a dead run "running"
 * forever. So a row records its process's start identity too, and a process counts as the recorder only
 * when both its pid and its start identity match.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The boot this machine is in (Linux): start times in clock ticks only compare within one boot. */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

/**
 * A string that names one process's lifetime: its start time (Linux: ticks since boot from /proc/PID/stat,
 * with the boot id; macOS and the BSDs: `ps -o lstart`). Null where neither is available (Windows) or the
 * process does not exist; then only the pid is compared.
 */
export function processStartKey(pid: number): string | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // the command name (field 2) is in parentheses and may itself hold spaces or ')': split after the last one
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const startTicks = fields[19]; // field 22 of the line; fields[0] is field 3 (the state)
      return startTicks ? `${bootId()}:${startTicks}` : null;
    } catch {
      return null;
    }
  }
  if (process.platform === 'win32') return null;
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const key = out.trim();
    return key === '' ? null : key;
  } catch {
    return null;
  }
}

let own: string | null | undefined;

/** This process's start identity (computed once). */
export function ownStartKey(): string | null {
  if (own === undefined) own = processStartKey(process.pid);
  return own;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user (another user's app on a shared library)
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the process recorded as (pid, startKey) is gone: no process has the pid, or the one that has
 * it started at another time (the pid was reused). A row recorded without a start key (an older library,
 * Windows) falls back to the pid alone.
 */
export function processGone(pid: number, startKey: string | null): boolean {
  if (pid === process.pid) return startKey !== null && ownStartKey() !== null && startKey !== ownStartKey();
  if (!pidExists(pid)) return true;
  if (startKey === null) return false;
  const current = processStartKey(pid);
  return current !== null && current !== startKey;
}
