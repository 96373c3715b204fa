/**
 * The dashboard's settings and their checks, shared by the service's environment
 * (state/config.ts: DASHBOARD_ARGO_WORKFLOW_URL, DASHBOARD_SSO_HEADER, DASHBOARD_SSO_PORT,
 * DASHBOARD_ALB_OIDC, DASHBOARD_ALB_PORT) and the StateService construct (its `dashboard`
 * prop), so a bad value fails at synth as it would at start.
 */
import type { AlbOidcOptions } from './alb-oidc';

export type { AlbOidcOptions } from './alb-oidc';

export interface DashboardOptions {
  /**
   * A run's page in the Argo UI, with `{name}` (and optionally `{uid}`) replaced, e.g.
   * `https://argo.example.com/workflows/swoop/{name}?uid={uid}`. Default: no Argo links.
   */
  readonly argoWorkflowUrl?: string;
  /**
   * A request header the single sign-on proxy in front of the service sets to the signed-in
   * user (e.g. x-auth-request-email). Trusted only on `ssoPort`, a listener of its own that
   * only the proxy can reach (docs/dashboard.md, "Who can see it"). Default: none (tokens only).
   */
  readonly ssoHeader?: string;
  /** The port of that listener (required with ssoHeader; 0: any free port, for tests). It serves /dashboard only. */
  readonly ssoPort?: number;
  /**
   * An AWS ALB with OIDC authentication in front of the dashboard: the user is the verified
   * `x-amzn-oidc-data` header (state/dashboard/alb-oidc.ts), only on `albPort`, where nothing
   * else lets anyone in. Default: none.
   */
  readonly albOidc?: AlbOidcOptions;
  /** The port of that listener (required with albOidc; 0: any free port, for tests). It serves /dashboard only. */
  readonly albPort?: number;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** An ALB's ARN, or its prefix up to `loadbalancer/app/<name>/` (the id left to AWS). */
const ALB_ARN = /^arn:aws(-[a-z]+)*:elasticloadbalancing:([a-z0-9-]+):(\d{12}):loadbalancer\/app\/[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?\/([0-9a-f]{16})?$/;
const CLAIM = /^[A-Za-z0-9_:.-]{1,64}$/;

/** DASHBOARD_ALB_OIDC's `<region>,<load balancer ARN or ARN prefix>,<claim>`, or its problem. */
export function parseAlbOidc(raw: string, name: string): AlbOidcOptions | string {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length !== 3) return `${name} must be "<region>,<load balancer ARN, or its prefix ending loadbalancer/app/<name>/>,<claim>", e.g. "us-west-2,arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/swoop-dashboard/,email" (got "${raw}")`;
  return { region: parts[0]!, signer: parts[1]!, claim: parts[2]! };
}

/** The env value of albOidc (what parseAlbOidc reads). */
export const albOidcEnv = (o: AlbOidcOptions): string => `${o.region},${o.signer},${o.claim}`;

function albOidcProblem(o: AlbOidcOptions, name: string): string | undefined {
  if (!REGION.test(o.region)) return `${name}: the region must be an AWS region such as us-west-2 (got "${o.region}")`;
  const arn = ALB_ARN.exec(o.signer);
  if (!arn) return `${name}: the signer must be an application load balancer's ARN, or its prefix ending "loadbalancer/app/<name>/" (got "${o.signer}")`;
  if (arn[2] !== o.region) return `${name}: the load balancer's ARN is in ${arn[2]}, not ${o.region}; its keys are served by its own region`;
  if (!CLAIM.test(o.claim)) return `${name}: the claim must be a claim name such as email (got "${o.claim}")`;
  if (o.keyUrl !== undefined && !/^https?:\/\/[^/?#\s]+\/(\S*\/)?$/.test(o.keyUrl)) return `${name}: the key URL must be an http(s) URL ending in "/" (got "${o.keyUrl}")`;
  return undefined;
}

/** What is wrong with the options, naming each by `names` (env var or prop path); undefined when nothing. */
export function dashboardOptionsProblem(o: DashboardOptions, names: { argoWorkflowUrl: string; ssoHeader: string; ssoPort?: string; albOidc?: string; albPort?: string }): string | undefined {
  const url = o.argoWorkflowUrl;
  if (url !== undefined && (!/^https?:\/\/[^/?#\s]+\S*$/.test(url) || !url.includes('{name}'))) {
    return `${names.argoWorkflowUrl} must be an http(s) URL containing {name} (and optionally {uid}), e.g. https://argo.example.com/workflows/swoop/{name}?uid={uid} (got "${url}")`;
  }
  const header = o.ssoHeader;
  if (header !== undefined && !/^[A-Za-z0-9-]+$/.test(header)) {
    return `${names.ssoHeader} must be a header name such as x-auth-request-email (got "${header}")`;
  }
  if (header !== undefined && /^(authorization|cookie|host)$/i.test(header)) {
    return `${names.ssoHeader} must name the header your SSO proxy sets to the user, not ${header}`;
  }
  if (names.ssoPort !== undefined) {
    if (header !== undefined && o.ssoPort === undefined) {
      return `${names.ssoHeader} needs ${names.ssoPort}: the header is trusted only on that port, which only the SSO proxy can reach; set both or neither`;
    }
    if (o.ssoPort !== undefined && header === undefined) return `${names.ssoPort} is set without ${names.ssoHeader}; set both or neither`;
    if (o.ssoPort !== undefined && !(Number.isInteger(o.ssoPort) && o.ssoPort >= 0 && o.ssoPort <= 65535)) {
      return `${names.ssoPort} must be a port number from 0 to 65535 (got "${o.ssoPort}")`;
    }
  }
  const albName = names.albOidc ?? 'albOidc';
  if (o.albOidc !== undefined) {
    const problem = albOidcProblem(o.albOidc, albName);
    if (problem) return problem;
  }
  if (names.albPort !== undefined) {
    if (o.albOidc !== undefined && o.albPort === undefined) {
      return `${albName} needs ${names.albPort}: the load balancer's header is believed only on that port, which only the load balancer can reach; set both or neither`;
    }
    if (o.albPort !== undefined && o.albOidc === undefined) return `${names.albPort} is set without ${albName}; set both or neither`;
    if (o.albPort !== undefined && !(Number.isInteger(o.albPort) && o.albPort >= 0 && o.albPort <= 65535)) {
      return `${names.albPort} must be a port number from 0 to 65535 (got "${o.albPort}")`;
    }
    if (o.albPort !== undefined && o.ssoPort !== undefined && o.albPort !== 0 && o.albPort === o.ssoPort) return `${names.albPort} must differ from ${names.ssoPort ?? 'the SSO port'}`;
  }
  return undefined;
}
