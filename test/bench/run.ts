// `npm run bench -- NAME`: imports test/bench/NAME.ts and calls its exported run().
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
const name = process.argv[2];

if (name === undefined || !benches.includes(name)) {
  if (name !== undefined) console.error(`unknown bench '${name}'`);
  console.error(`usage: npm run bench -- NAME\nbenches: ${benches.join(', ')}`);
  process.exit(name === undefined ? 0 : 1);
}
const mod: unknown = await import(`./${name}.ts`);
const run = typeof mod === 'object' && mod !== null && 'run' in mod ? mod.run : undefined;
if (typeof run !== 'function') {
  console.error(`test/bench/${name}.ts exports no run()`);
  process.exit(1);
}
await run(process.argv.slice(3));
