// The CLI in a child process of `npm run bench -- scale`, reporting its own peak RSS on stderr at exit.
import { main } from '../../electron/cli/main';

const code = await main(process.argv.slice(2));
process.stderr.write(`\nSCALE-RSS-KB ${process.resourceUsage().maxRSS}\n`);
process.exitCode = code;
