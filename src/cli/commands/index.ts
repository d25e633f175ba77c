// The list of iclit commands, in the order --help shows them.
import type { Command } from '../args.js';

export const commands: Command[] = [];
