/** `mask-studio serve`: the studio in a browser, on the same core, for a headless workstation or the tests. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { intOpt, stringOpt, UsageError, type Command } from '../command';

const REPO_ROOT = new URL('../../../', import.meta.url).pathname;

export const serve: Command = {
  name: 'serve',
  usage: 'serve [--data-root DIR]... [--port N] [--host 127.0.0.1] [--renderer DIR]',
  summary:
    'serve the studio to a browser on this machine (prints a URL with its access token; Ctrl+C stops). The page imports only below the --data-root folders',
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    renderer: { type: 'string' },
    'data-root': { type: 'string', multiple: true },
  },
  async run(ctx, args) {
    const port = intOpt(args, 'port', 0) ?? 0;
    if (port > 65535) throw new UsageError(`--port ${port} is not a TCP port (0-65535)`);
    const host = stringOpt(args, 'host') ?? '127.0.0.1';
    const rendererDir = stringOpt(args, 'renderer') ?? join(REPO_ROOT, 'out', 'renderer');
    if (!existsSync(join(rendererDir, 'index.html'))) {
      throw new AppError('NOT_FOUND', `the studio's page is not built (${join(rendererDir, 'index.html')} is missing): run 'npm run build' first`);
    }
    const raw = args.values['data-root'];
    const dataRoots = (Array.isArray(raw) ? raw : []).filter((r): r is string => typeof r === 'string').map((r) => resolve(r));
    for (const r of dataRoots) {
      if (!statSync(r, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--data-root ${r}: no such folder`);
    }
    const lib = ctx.library(true);
    const server = await (await import('../../server/server')).startServer({ lib, rendererDir, host, port, dataRoots });
    const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
    ctx.print({ url: server.url, host: server.host, port: server.port, library: lib.dir, dataRoots }, () =>
      [
        `Mask Studio is serving ${lib.dir}`,
        `open: ${server.url}`,
        dataRoots.length > 0
          ? `the page may import from: ${dataRoots.join(', ')}`
          : 'the page may import from no folder (add --data-root DIR; `mask-studio import DIR` works as always)',
        loopback ? '' : `warning: listening on ${host}: anyone who can reach this address and has the token can edit the library`,
        'Ctrl+C stops.',
      ]
        .filter((l) => l !== '')
        .join('\n'),
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
  },
};
