import type { Command } from '@commander-js/extra-typings';
import type { Ctx } from '../context';

export function registerRerun(_program: Command<[], any>, _ctx: Ctx): void {}
