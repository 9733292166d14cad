// Optimistic concurrency vs a lock, on one table file, with real writer processes.
//
//   node examples/occ.mjs
//
// Each writer reads the newest version v of the table, works a little, and commits v+1
// with link(2), which fails if another writer already committed v+1: the version
// check and the commit are one atomic step, so no commit is ever lost. A loser backs
// off for a random time and retries. The same workload then runs under an exclusive
// OFD lock (flock where OFD locks do not exist), where nobody ever retries.
// `syslocks-lab occ` is the same experiment with options.
import { formatOcc, runOcc } from '../dist/lab/occ.js';
import { capabilities } from '../dist/index.js';

const kind = capabilities().ofd ? 'ofd' : 'flock';
const results = [];
for (const mode of ['occ', 'lock']) results.push(await runOcc({ writers: 3, commits: 10, mode, kind, workMs: 3 }));
process.stdout.write(formatOcc(results, 3));
if (!results.every((r) => r.consistent)) process.exit(1);
