import type { Command } from '../command';
import { checkCommand } from './check';
import { composeCommand } from './compose';
import { demoCommand } from './demo';
import { libraryCommand } from './library';
import { lspCommand } from './lsp';
import { planCommand } from './plan';

export const commands: Command[] = [checkCommand, planCommand, composeCommand, libraryCommand, demoCommand, lspCommand];
