/**
 * The dashboard's settings and their checks, shared by the service's environment
 * (state/config.ts: DASHBOARD_ARGO_WORKFLOW_URL, DASHBOARD_SSO_HEADER, DASHBOARD_SSO_PORT)
 * and the StateService construct (its `dashboard` prop), so a bad value fails at synth as it
 * would at start.
 */
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
}

/** What is wrong with the options, naming each by `names` (env var or prop path); undefined when nothing. */
export function dashboardOptionsProblem(o: DashboardOptions, names: { argoWorkflowUrl: string; ssoHeader: string; ssoPort?: string }): string | undefined {
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
  return undefined;
}
