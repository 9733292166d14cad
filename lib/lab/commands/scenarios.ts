/**
 * `syslocks-lab scenarios`: the matrix rows and what each measures.
 * @packageDocumentation
 */
import { parseArgs } from '../args.js';
import { noPositionals, type Subcommand } from '../command.js';
import { SCENARIOS } from '../scenarios/index.js';

/** `scenarios`. */
export const scenariosCommand: Subcommand = {
  name: 'scenarios',
  synopsis: '',
  summary: 'list the scenarios (matrix rows) and what each measures',
  help: '  (no options)',
  run(argv) {
    noPositionals(parseArgs(argv, [], []));
    for (const s of SCENARIOS) process.stdout.write(`${s.name}\n  ${s.summary}\n`);
    return Promise.resolve(0);
  },
};
