/**
 * `mask-studio`: the CLI on the same core the app uses. Global options (--library DIR, --json) may stand
 * before or after the command. Exit status: 0 when the command did its job (an import that reported bad
 * rows, an audit with findings), 1 when it could not, 2 for a usage error.
 */
import { parseArgs } from 'node:util';
import { isAppError } from '../../shared/errors';
import { UsageError, type Command, type ParsedArgs } from './command';
import { COMMANDS } from './commands';
import { createContext } from './context';

interface Globals {
  library: string | undefined;
  json: boolean;
  help: boolean;
  rest: string[];
}

/** Takes the global options out of argv wherever they stand. */
export function extractGlobals(argv: readonly string[]): Globals {
  const rest: string[] = [];
  let library: string | undefined;
  let json = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--library') {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError('--library needs a folder');
      library = v;
      i++;
    } else if (a.startsWith('--library=')) library = a.slice('--library='.length);
    else rest.push(a);
  }
  return { library, json, help, rest };
}

/**
 * `--lr -1`: node's parser takes '-1' for an option and refuses the value; a negative number after an
 * option that takes a value is that value (the schema then says whether it may be negative).
 */
export function joinNegativeValues(args: readonly string[], options: Command['options']): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const next = args[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
    if (a === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
  }
  return out;
}

/**
 * `mask-studio audit | head -1`: once the reader has closed the pipe, nothing more can be said; exit
 * quietly with success (as `cat` does) instead of an unhandled EPIPE stack trace.
 */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'mask-studio: audit, fix, split, train and compare image classifiers on a labelled photo folder',
    '',
    'usage: mask-studio [--library DIR] [--json] COMMAND [ARGS]',
    '',
    'commands:',
    ...lines,
    '',
    'global options:',
    '  --library DIR  the library folder (default: the platform data folder, or $MASK_STUDIO_LIBRARY)',
    '  --json         print one JSON document on stdout',
    '',
    'environment: MASK_STUDIO_LIBRARY (the default library), MASK_STUDIO_PROGRESS=json (progress as JSON lines on stderr)',
    '',
    "'mask-studio COMMAND --help' shows a command's options.",
  ].join('\n');
}

function commandHelp(c: Command): string {
  return `usage: mask-studio ${c.usage}\n\n${c.summary}`;
}

export async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyOnClosedPipe();
  let command: Command | undefined;
  const ctx = createContext({ library: undefined, json: argv.includes('--json') });
  try {
    const globals = extractGlobals(argv);
    const [name, ...rest] = globals.rest;
    if (name === undefined) {
      (globals.help ? process.stdout : process.stderr).write(`${globalHelp()}\n`);
      return globals.help ? 0 : 2;
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command '${name}'. Commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    if (globals.help) {
      process.stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    let parsed: ParsedArgs;
    try {
      const p = parseArgs({ args: joinNegativeValues(rest, command.options), options: command.options, allowPositionals: true, strict: true });
      parsed = { positionals: p.positionals, values: p.values };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const run = createContext({ library: globals.library, json: globals.json });
    try {
      await command.run(run, parsed);
    } finally {
      run.closeAll();
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mask-studio: ${err.message}\n${command ? commandHelp(command) : "run 'mask-studio --help' for the commands"}\n`);
      return 2;
    }
    if (isAppError(err)) {
      process.stderr.write(`mask-studio: ${err.message}\n`);
      if (ctx.json) process.stdout.write(`${JSON.stringify({ error: err.toPayload() })}\n`);
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`mask-studio: internal error: ${e.message}\n${process.env['MASK_STUDIO_DEBUG'] ? `${e.stack ?? ''}\n` : ''}`);
    return 1;
  }
}
