import type { Command } from '@commander-js/extra-typings';
import type { Ctx } from '../context';

export function registerLogs(_program: Command<[], any>, _ctx: Ctx): void {}
