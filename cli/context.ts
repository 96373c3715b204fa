/**
 * What command files receive: the streams, the global options (--deployment, --config, --json)
 * and the deployment they select, loaded on first use so `--help` needs no config.
 */
import type { Command } from '@commander-js/extra-typings';
import { type Deployment, loadDeployment } from './config';
import type { Io } from './io';

export type Globals = {
  readonly deployment?: string;
  readonly config?: string;
  readonly json?: boolean;
};

export class Ctx {
  /** the code the process exits with when the command returns normally */
  exitCode = 0;

  constructor(
    readonly io: Io,
    private readonly program: Command<[], Globals>,
  ) {}

  get globals(): Globals {
    return this.program.opts();
  }

  get json(): boolean {
    return this.globals.json === true;
  }

  deployment(): Deployment {
    return loadDeployment({ deployment: this.globals.deployment, config: this.globals.config, env: this.io.env, cwd: this.io.cwd });
  }
}

/** `Example:` lines under a command's --help. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
