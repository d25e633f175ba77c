// The list of iclit commands, in the order --help shows them.
import type { Command } from '../args.js';
import { activations } from './activations.js';
import { embed } from './embed.js';
import { exportCommand } from './export.js';
import { run } from './run.js';
import { tune } from './tune.js';
import { loss } from './loss.js';
import { report } from './report.js';

export const commands: Command[] = [run, activations, embed, exportCommand, tune, loss, report];
