/**
 * The dashboard's wiring from the stack settings to the running service: the Argo UI link
 * follows the stack's argoIngress (port-forward URL without it), the SSO header and the ALB's
 * sign-in are set only with the stack setting `dashboard` (prod has the ALB, dev neither), and
 * the state service started with the synthesized Deployment's own environment links a failed
 * run to that UI, believes the SSO header only on its SSO port and the ALB's signed header
 * (verified against keys served by a loopback stand-in for AWS's endpoint) only on its ALB
 * port, never on the API port.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { STATE_DASHBOARD_ALB_PORT, STATE_DASHBOARD_SSO_PORT } from '../../constructs/state-service';
import { AlbKeyServer, albToken, makeKey, SIGNER_PREFIX } from '../support/alb-oidc';
import { configFromEnv } from '../../state/config';
import { type RunningStateService, startStateService } from '../../state/service';
import { loadEnvironment, PROJECT_FILE, STACKS_DIR } from '../../stacks/environment';
import { buildApp } from '../../workflows/app';
import { call, createTestDb, DATABASE_URL, HAVE_POSTGRES, lifecycle, READER, type TestDb, WRITER } from '../state/support';

type Json = Record<string, any>;
const SSO = { ssoHeader: 'x-auth-request-email', ssoProxy: { namespace: 'auth', podLabels: { 'app.kubernetes.io/name': 'oauth2-proxy' } } };

/** The state service's Deployment and Service of a stack, as `npm run synth` writes them. */
function stateObjects(stack: string, dir = STACKS_DIR): { deployment: Json; service: Json } {
  const docs = Testing.synth(buildApp(loadEnvironment(stack, dir)).state) as Json[];
  return { deployment: docs.find((d) => d.kind === 'Deployment')!, service: docs.find((d) => d.kind === 'Service')! };
}
const envOf = (deployment: Json): Json[] => deployment.spec.template.spec.containers[0].env;
const value = (deployment: Json, name: string) => envOf(deployment).find((e) => e.name === name)?.value;

/** A copy of the prod stack's settings with `dashboard` set (a stack folder of its own). */
function stackWithSso(): string {
  const dir = mkdtempSync(join(tmpdir(), 'swoop-stacks-'));
  const prod = parse(readFileSync(join(STACKS_DIR, 'Pulumi.prod.yaml'), 'utf8'));
  prod.config['swoop-platform:dashboard'] = { ...prod.config['swoop-platform:dashboard'], ...SSO };
  writeFileSync(join(dir, 'Pulumi.sso.yaml'), stringify(prod));
  copyFileSync(PROJECT_FILE, join(dir, 'Pulumi.yaml'));
  return dir;
}

describe('dashboard settings from the stack reach the Deployment', () => {
  it('links runs to the stack\'s Argo UI: the argoIngress host in prod, the port-forward URL in dev', () => {
    expect(value(stateObjects('prod').deployment, 'DASHBOARD_ARGO_WORKFLOW_URL')).toBe('https://argo.example.com/workflows/swoop/{name}?uid={uid}');
    expect(value(stateObjects('dev').deployment, 'DASHBOARD_ARGO_WORKFLOW_URL')).toBe('https://localhost:2746/workflows/swoop/{name}?uid={uid}');
  });

  it('sets the SSO header and opens the SSO port only with the stack setting dashboard', () => {
    for (const stack of ['dev', 'prod']) {
      const { deployment, service } = stateObjects(stack);
      expect(envOf(deployment).map((e) => e.name)).not.toContain('DASHBOARD_SSO_HEADER');
      expect(service.spec.ports.map((p: Json) => p.name).filter((n: string) => n === 'dashboard-sso')).toEqual([]);
    }
    const { deployment, service } = stateObjects('sso', stackWithSso());
    expect([value(deployment, 'DASHBOARD_SSO_HEADER'), value(deployment, 'DASHBOARD_SSO_PORT')]).toEqual(['x-auth-request-email', String(STATE_DASHBOARD_SSO_PORT)]);
    expect(deployment.spec.template.spec.containers[0].ports).toContainEqual({ containerPort: STATE_DASHBOARD_SSO_PORT, name: 'dashboard-sso' });
    expect(service.spec.ports).toContainEqual({ name: 'dashboard-sso', port: STATE_DASHBOARD_SSO_PORT, targetPort: STATE_DASHBOARD_SSO_PORT });
  });

  it('prod signs in through its ALB: the state service expects the ALB named after the cluster, in the certificate\'s account and region; dev stays on tokens', () => {
    const prod = stateObjects('prod');
    expect([value(prod.deployment, 'DASHBOARD_ALB_OIDC'), value(prod.deployment, 'DASHBOARD_ALB_PORT')])
      .toEqual(['us-west-2,arn:aws:elasticloadbalancing:us-west-2:210987654321:loadbalancer/app/swoop-prod-dashboard/,email', String(STATE_DASHBOARD_ALB_PORT)]);
    expect(prod.deployment.spec.template.spec.containers[0].ports).toContainEqual({ containerPort: STATE_DASHBOARD_ALB_PORT, name: 'dashboard-alb' });
    expect(prod.service.spec.ports.map((p: Json) => p.name)).toEqual(['http', 'metrics', 'dashboard-alb']);
    const dev = stateObjects('dev');
    expect(envOf(dev.deployment).map((e) => e.name).filter((n: string) => n.startsWith('DASHBOARD_ALB'))).toEqual([]);
    expect(dev.service.spec.ports.map((p: Json) => p.name)).toEqual(['http', 'metrics']);
  });

  it('refuses a dashboard.alb whose certificate is in another region, in one line naming the key', () => {
    const dir = stackWithSso();
    const file = join(dir, 'Pulumi.sso.yaml');
    const settings = parse(readFileSync(file, 'utf8'));
    settings.config['swoop-platform:dashboard'].alb.certificateArn = 'arn:aws:acm:eu-west-1:210987654321:certificate/00000000-0000-0000-0000-000000000000';
    writeFileSync(file, stringify(settings));
    expect(() => loadEnvironment('sso', dir)).toThrow('stacks/Pulumi.sso.yaml: swoop-platform:dashboard.alb.certificateArn is in eu-west-1, not the stack\'s region us-west-2: an ALB uses a certificate of its own region');
  });

  it('refuses a dashboard setting that names no proxy, in one line naming the key', () => {
    const dir = stackWithSso();
    const file = join(dir, 'Pulumi.sso.yaml');
    const settings = parse(readFileSync(file, 'utf8'));
    settings.config['swoop-platform:dashboard'] = { ssoHeader: 'x-auth-request-email' };
    writeFileSync(file, stringify(settings));
    expect(() => loadEnvironment('sso', dir)).toThrow('stacks/Pulumi.sso.yaml: swoop-platform:dashboard.ssoProxy must be {namespace, podLabels?}: the proxy\'s pods, the only ones allowed to reach the SSO port (got null)');
  });
});

describe('the state service started with that Deployment\'s environment', () => {
  let t: TestDb | undefined;
  let svc: RunningStateService;
  const keys = new AlbKeyServer();
  const key = makeKey('0d4ab2c1-9e8f-4a7b-8c6d-5e4f3a2b1c0d');
  beforeAll(async () => {
    keys.add(key);
    await keys.start();
    const { deployment } = stateObjects('sso', stackWithSso());
    // Its plain values as written; Secrets and the ConfigMap are the cluster's (here: the tests'
    // tokens, no Argo Server, no lifecycle webhook); every port any free one on loopback.
    const env = Object.fromEntries(envOf(deployment).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    for (const k of ['ARGO_SERVER_URL', 'ARGO_INSECURE_SKIP_VERIFY']) delete env[k];
    t = HAVE_POSTGRES ? await createTestDb() : undefined;
    svc = await startStateService({
      // AWS's key endpoint is the loopback stand-in (the only setting tests may move).
      ...configFromEnv({ ...env, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', DASHBOARD_SSO_PORT: '0', DASHBOARD_ALB_PORT: '0', DASHBOARD_ALB_KEY_URL: keys.url, STATE_WRITE_TOKEN: WRITER, STATE_READ_TOKEN: READER }),
      databaseUrl: DATABASE_URL, schema: t?.schema, stuckRuns: undefined,
    });
  });
  afterAll(async () => {
    await svc?.close();
    await t?.drop();
    await keys.stop();
  });
  const get = async (base: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  };

  it('links a failed run to it in the Argo UI of the stack, by name and uid', async () => {
    for (const [type, phase] of [['running', 'Running'], ['completed', 'Failed']] as const) {
      expect((await call(svc.url, 'POST', '/events', { token: WRITER, body: lifecycle({ type, run: 'wired-1', phase, message: 'boom' }) })).status).toBe(202);
    }
    const page = await get(svc.url, '/dashboard', { authorization: `Bearer ${READER}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="https://argo.example.com/workflows/swoop/wired-1?uid=uid-wired-1"');
  });

  it('believes the SSO header on the SSO port only: the same header on the API port is a spoof and gets the sign-in page', async () => {
    const user = { 'x-auth-request-email': 'oncall@example.com' };
    const sso = svc.dashboardSsoUrl!;
    const signedIn = await get(sso, '/dashboard', user);
    expect(signedIn.status).toBe(200);
    expect(signedIn.text).toContain('Signed in as oncall@example.com');
    expect((await get(svc.url, '/dashboard', user)).status).toBe(401);
    expect((await get(sso, '/dashboard')).status).toBe(401);
    // nothing but the dashboard there: not the API, even with the header
    expect((await get(sso, '/runs', { ...user, authorization: `Bearer ${READER}` })).status).toBe(404);
    expect((await get(sso, '/dashboards', user)).status).toBe(404);
  });

  it('believes the ALB\'s signed header on the ALB port only, signed by the ALB the stack named', async () => {
    const header = { 'x-amzn-oidc-data': albToken(key) };
    expect(SIGNER_PREFIX).toBe('arn:aws:elasticloadbalancing:us-west-2:210987654321:loadbalancer/app/swoop-prod-dashboard/');
    const alb = svc.dashboardAlbUrl!;
    const signedIn = await get(alb, '/dashboard', header);
    expect(signedIn.status).toBe(200);
    expect(signedIn.text).toContain('Signed in as oncall@example.com');
    expect((await get(svc.url, '/dashboard', header)).status).toBe(401);
    expect((await get(svc.dashboardSsoUrl!, '/dashboard', header)).status).toBe(401);
    expect((await get(alb, '/dashboard', { authorization: `Bearer ${READER}` })).status).toBe(401);
    expect((await get(alb, '/dashboard', { 'x-auth-request-email': 'oncall@example.com' })).status).toBe(401);
    const otherAlb = albToken(key, { header: { signer: 'arn:aws:elasticloadbalancing:us-west-2:210987654321:loadbalancer/app/swoop-dev-dashboard/50dc6c495c0c9188' } });
    expect((await get(alb, '/dashboard', { 'x-amzn-oidc-data': otherAlb })).status).toBe(401);
  });
});
