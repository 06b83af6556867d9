import type { Command } from '../command';
import { checkCommand } from './check';
import { composeCommand } from './compose';
import { demoCommand } from './demo';
import { diffCommand } from './diff';
import { doctorCommand } from './doctor';
import { evalCommand } from './eval';
import { historyCommand } from './history';
import { libraryCommand } from './library';
import { lockCommand } from './lock';
import { lspCommand } from './lsp';
import { newCommand } from './new';
import { planCommand } from './plan';

export const commands: Command[] = [checkCommand, planCommand, composeCommand, diffCommand, lockCommand, evalCommand, historyCommand, libraryCommand, newCommand, demoCommand, doctorCommand, lspCommand];
