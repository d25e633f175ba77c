// The list of iclit commands, in the order --help shows them (the study first, then the building blocks).
import type { Command } from '../args.js';
import { activations } from './activations.js';
import { doctor } from './doctor.js';
import { embed } from './embed.js';
import { exportCommand } from './export.js';
import { merge } from './merge.js';
import { run } from './run.js';
import { tune } from './tune.js';
import { loss } from './loss.js';
import { report } from './report.js';

export const commands: Command[] = [run, report, exportCommand, merge, activations, tune, loss, embed, doctor];
