/**
 * `syslocks-lab controller SCHEDULE`: the table entry; the command is in controller-cli.ts.
 * @packageDocumentation
 */
import { CONTROLLER_USAGE, controllerCommand as run } from '../controller-cli.js';
import { fromUsage } from './from-usage.js';

/** `controller`. */
export const controllerCommand = fromUsage({
  name: 'controller',
  summary: 'drive local and remote lockers by a timed schedule; timeline + holds',
  usage: CONTROLLER_USAGE,
  run,
});
