/**
 * The CLI calls the contract's handlers as the app does, so the two cannot drift: a command's flags become
 * the method's input (a flag is a field; its text becomes a number where the schema wants one), the
 * method's zod schema validates it (the same limits the API enforces), and the handler runs on a core
 * context whose events become the progress line. A refusal names the flag and what to type.
 */
import { parse, resolve } from 'node:path';
import type { z } from 'zod';
import { methods, type EventPayload, type MethodName, type MethodOutput, type MethodParsedInput } from '../../shared/contract';
import type { CoreContext } from '../core/api/context';
import type { Handler } from '../core/api/dataset-handlers';
import { JobRunner } from '../core/jobs/runner';
import type { Library } from '../core/library';
import { DataRoots } from '../core/paths/data-roots';
import { UsageError } from './command';
import type { CliContext } from './context';

/** Schema field → how a person types it ('--batch', 'FILE'). */
export type FlagNames = Readonly<Record<string, string>>;

/** A flag's text as a number where it reads as one; else the text itself (the schema then says what it expected). */
export function numeric(raw: string | undefined): number | string | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

/** The fields that were given: an absent flag leaves the schema's default, not an explicit undefined. */
export function given(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

function explain(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return `at most ${max} value${max === 1 ? '' : 's'}`;
      return issue.inclusive ? `at most ${max}` : `must be below ${max}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return `at least ${min} value${min === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      if (min === 0) return issue.inclusive ? 'must not be negative' : 'must be positive';
      return issue.inclusive ? `at least ${min}` : `must be above ${min}`;
    }
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      if (issue.expected === 'number') return 'must be a number';
      return `expected ${issue.expected}`;
    case 'invalid_value': {
      const values = issue.values.map(String);
      return `expected ${values.length > 1 ? `${values.slice(0, -1).join(', ')} or ${values[values.length - 1] ?? ''}` : (values[0] ?? '')}`;
    }
    case 'invalid_union':
      return 'not one of the accepted forms';
    default:
      return issue.message;
  }
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** Validates a command's input with the method's own schema; a refusal names the flag, the value and the rule. */
export function parseInput<M extends MethodName>(method: M, raw: Record<string, unknown>, flags: FlagNames): MethodParsedInput<M> {
  const schema: z.ZodType = methods[method].input;
  const parsed = schema.safeParse(raw);
  // the schema is the method's own: what it returns is that method's parsed input
  if (parsed.success) return parsed.data as MethodParsedInput<M>;
  const problems = parsed.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    const flag = flags[field] ?? (field === '' ? 'input' : `--${field}`);
    const value = valueAt(raw, issue.path.slice(0, 1));
    const shown = value === undefined ? '' : ` ${Array.isArray(value) ? value.join(',') : String(value)}`;
    return `${flag}${shown}: ${explain(issue)}`;
  });
  throw new UsageError(problems.join('; '));
}

type Finished = EventPayload<'job.finished'>;

export interface CliCore extends CoreContext {
  /** Runs one handler with an input that went through parseInput. */
  call<M extends MethodName>(handler: Handler<M>, input: MethodParsedInput<M>): Promise<MethodOutput<M>>;
  /** Waits for a job a handler started, Ctrl-C cancelling it (what it saved is kept); its finished event. */
  wait(jobId: string, what: string): Promise<Finished>;
}

/**
 * The folders a handler may read for a command: the CLI reads wherever its user points, so each path named
 * on the command line allows its whole file system (a page's paths are checked against --data-root instead).
 */
export function commandLineRoots(paths: readonly string[]): DataRoots {
  return new DataRoots([...new Set(paths.map((p) => parse(resolve(p)).root))], { howToAllow: '' });
}

/**
 * A core context for one command: its jobs run in this process; their progress is the CLI's progress line.
 * `readRoots`: the folders the person named on the command line, for a handler that checks a page's paths.
 */
export function cliCore(cli: CliContext, lib: Library, label: (p: EventPayload<'job.progress'>) => string, readRoots?: DataRoots): CliCore {
  const finished = new Map<string, Finished>();
  const emit: CoreContext['emit'] = (e) => {
    if (e.name === 'job.progress' && 'phase' in e.payload) {
      const p = e.payload;
      cli.progress(label(p))({ phase: p.phase, done: p.done, total: p.total, etaMs: p.etaMs, ...(p.metrics ? { metrics: p.metrics } : {}) });
    } else if (e.name === 'job.finished' && 'status' in e.payload) {
      finished.set(e.payload.jobId, e.payload);
    }
  };
  const jobs = new JobRunner(lib.db, emit);
  const ctx: CoreContext = { lib, jobs, emit, ...(readRoots !== undefined ? { readRoots } : {}) };
  return {
    ...ctx,
    call: async (handler, input) => await handler(ctx, input),
    async wait(jobId, what) {
      const onSigint = (): void => {
        cli.stderr.write(`\ncancelling ${what} (what it saved is kept)…\n`);
        jobs.cancel(jobId);
      };
      process.on('SIGINT', onSigint);
      try {
        await jobs.wait(jobId);
      } finally {
        process.off('SIGINT', onSigint);
      }
      const end = finished.get(jobId);
      if (!end) throw new Error(`job ${jobId} ended without its finished event`);
      return end;
    },
  };
}
