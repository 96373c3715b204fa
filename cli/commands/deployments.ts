/** `swoop deployments`: the configured deployments, where each part is, and whether each token is set (never its value). */
import type { Command } from '@commander-js/extra-typings';
import { listDeployments, type Deployment } from '../config';
import { type Ctx, examples } from '../context';
import { printJson } from '../io';

function describe(d: Deployment, isDefault: boolean) {
  return {
    name: d.name,
    default: isDefault,
    state: { url: d.state.url ?? null, readToken: d.state.readToken.from },
    ingress: {
      via: d.ingress.via ?? (d.ingress.sqs.queueUrl ? 'sqs' : 'webhook'),
      webhook: { url: d.ingress.webhook.url ?? null, token: d.ingress.webhook.token.from },
      sqs: { queueUrl: d.ingress.sqs.queueUrl ?? null, region: d.ingress.sqs.region ?? null },
    },
    argo: { url: d.argo.url ?? null, token: d.argo.token.from, namespace: d.argo.namespace },
    manifests: d.manifests ?? null,
  };
}

export function registerDeployments(program: Command<[], any>, ctx: Ctx): void {
  program
    .command('deployments')
    .description('list the deployments of the config file: URLs, and where each token comes from (tokens are never printed)')
    .addHelpText('after', examples('swoop deployments', 'swoop --config ops/swoop.config.yaml deployments --json'))
    .action(() => {
      const { file, defaultName, deployments } = listDeployments({ config: ctx.globals.config, env: ctx.io.env, cwd: ctx.io.cwd });
      const named = ctx.globals.deployment ?? ctx.io.env.SWOOP_DEPLOYMENT ?? defaultName;
      const rows = deployments.map((d) => describe(d, d.name === named));
      if (ctx.json) return printJson(ctx.io, { file: file ?? null, deployments: rows });
      if (!file) {
        ctx.io.stdout('no config file (looked for --config, $SWOOP_CONFIG, ./swoop.config.yaml, ~/.config/swoop/config.yaml); SWOOP_* variables alone define deployment "env"\n');
        return;
      }
      ctx.io.stdout(`${file}\n`);
      for (const r of rows) {
        ctx.io.stdout([
          `${r.name}${r.default ? ' (default)' : ''}`,
          `  state     ${r.state.url ?? '-'}  read token: ${r.state.readToken}`,
          `  ingress   via ${r.ingress.via}; webhook ${r.ingress.webhook.url ?? '-'} (token: ${r.ingress.webhook.token}); sqs ${r.ingress.sqs.queueUrl ?? '-'}`,
          `  argo      ${r.argo.url ?? '-'} (token: ${r.argo.token}, namespace ${r.argo.namespace})`,
          `  manifests ${r.manifests ?? '-'}`,
        ].join('\n') + '\n');
      }
    });
}
