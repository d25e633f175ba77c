// The list of iclit commands, in the order --help shows them.
import type { Command } from '../args.js';
import { activations } from './activations.js';
import { exportCommand } from './export.js';
import { run } from './run.js';

export const commands: Command[] = [run, activations, exportCommand];
