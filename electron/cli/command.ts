/** What a CLI command is: its flags (node:util parseArgs), a one-line summary, and what it does. */
import type { ParseArgsConfig } from 'node:util';
import type { CliContext } from './context';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  options: OptionSpec;
  run(ctx: CliContext, args: ParsedArgs): Promise<void>;
}

/** A usage error: the message, then the command's usage line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolOpt(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function numberOpt(args: ParsedArgs, name: string, check: (n: number) => boolean = Number.isFinite): number | undefined {
  const raw = stringOpt(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !check(n)) throw new UsageError(`--${name} '${raw}' is not a valid number here`);
  return n;
}

export function intOpt(args: ParsedArgs, name: string, min = 0): number | undefined {
  return numberOpt(args, name, (n) => Number.isInteger(n) && n >= min);
}

export function positional(args: ParsedArgs, index: number, what: string): string {
  const v = args.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}
