/**
 * Argo Server SSO RBAC: which Kubernetes service account a user logged in through OIDC acts
 * as. Argo lists the service accounts of its own namespace that carry a
 * `workflows.argoproj.io/rbac-rule` annotation, tries them from the highest
 * `rbac-rule-precedence` down, and uses the first whose rule (an expr-lang expression over the
 * ID token's claims) is true; none true means denied (docs/argo-server-sso.md upstream). These
 * are plain Kubernetes objects so the rules can be evaluated by the real library in a test
 * (tools/argo-sso-rbac-oracle).
 */

export const RBAC_RULE = 'workflows.argoproj.io/rbac-rule';
export const RBAC_RULE_PRECEDENCE = 'workflows.argoproj.io/rbac-rule-precedence';

export interface SsoGroups {
  /** OIDC groups whose members may submit, stop, retry and delete workflows. */
  readonly adminGroups: readonly string[];
  /** OIDC groups whose members may only look (workflows, templates, logs, events). */
  readonly readOnlyGroups: readonly string[];
}

/** The two accounts, highest precedence first: a user in both groups gets admin. */
export const SSO_ACCOUNTS = [
  { name: 'argo-sso-admin', precedence: 2, access: 'admin' },
  { name: 'argo-sso-read-only', precedence: 1, access: 'read-only' },
] as const;

/** A problem with a group name, or undefined. Names become expr string literals. */
export function ssoGroupProblem(group: unknown): string | undefined {
  if (typeof group !== 'string' || group.length === 0) return 'must be a non-empty string';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(group)) return 'must not contain control characters';
  return undefined;
}

/**
 * The rule matching members of any of `groups`. Each name is a double-quoted expr string
 * literal; JSON's escaping of `"` and `\` is also expr's, so a quote in a group name cannot
 * end the literal and inject an expression (the oracle test checks such names).
 */
export function groupsRule(groups: readonly string[]): string {
  if (groups.length === 0) throw new Error('an SSO RBAC rule needs at least one group');
  for (const g of groups) {
    const problem = ssoGroupProblem(g);
    if (problem) throw new Error(`SSO group ${JSON.stringify(g)} ${problem}`);
  }
  return groups.map((g) => `${JSON.stringify(g)} in groups`).join(' || ');
}

/** Name of the token Secret Argo reads for a service account (`<name>.service-account-token`). */
export const tokenSecretName = (serviceAccount: string): string => `${serviceAccount}.service-account-token`;

const WORKFLOW_RESOURCES = ['workflows', 'workflowtemplates', 'cronworkflows', 'workfloweventbindings'];
const EVENT_RESOURCES = ['sensors', 'eventsources', 'eventbus'];
const READ = ['get', 'list', 'watch'];

/** What each account may do in the workflow namespace. */
export function ssoRoleRules(access: 'admin' | 'read-only'): Record<string, unknown>[] {
  return [
    { apiGroups: ['argoproj.io'], resources: WORKFLOW_RESOURCES, verbs: access === 'admin' ? [...READ, 'create', 'update', 'patch', 'delete'] : READ },
    { apiGroups: ['argoproj.io'], resources: EVENT_RESOURCES, verbs: READ },
    { apiGroups: [''], resources: ['pods', 'pods/log', 'events'], verbs: READ },
  ];
}

export interface SsoRbacObjects {
  /** The server's namespace: where the accounts and their token Secrets live. */
  readonly serverNamespace: string;
  /** Where the workflows are: where the accounts get their Roles. */
  readonly workflowNamespace: string;
  readonly groups: SsoGroups;
}

/**
 * Every object of the SSO RBAC setup: per account a ServiceAccount with its rule and
 * precedence, its long-lived token Secret (Argo authenticates as the account with it; since
 * Kubernetes 1.24 nothing creates one by itself), and a Role + RoleBinding in the workflow
 * namespace. Read-only exists only when read-only groups are configured.
 */
export function ssoRbacObjects(args: SsoRbacObjects): Record<string, any>[] {
  const rules = { admin: groupsRule(args.groups.adminGroups), 'read-only': args.groups.readOnlyGroups.length > 0 ? groupsRule(args.groups.readOnlyGroups) : undefined };
  const labels = { 'app.kubernetes.io/part-of': 'swoop-platform', 'app.kubernetes.io/component': 'argo-sso-rbac' };
  const out: Record<string, any>[] = [];
  for (const account of SSO_ACCOUNTS) {
    const rule = rules[account.access];
    if (rule === undefined) continue;
    out.push(
      {
        apiVersion: 'v1', kind: 'ServiceAccount',
        metadata: { name: account.name, namespace: args.serverNamespace, labels, annotations: { [RBAC_RULE]: rule, [RBAC_RULE_PRECEDENCE]: String(account.precedence) } },
        automountServiceAccountToken: false,
      },
      {
        apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
        metadata: { name: tokenSecretName(account.name), namespace: args.serverNamespace, labels, annotations: { 'kubernetes.io/service-account.name': account.name } },
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role',
        metadata: { name: account.name, namespace: args.workflowNamespace, labels },
        rules: ssoRoleRules(account.access),
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding',
        metadata: { name: account.name, namespace: args.workflowNamespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account.name },
        subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: args.serverNamespace }],
      },
    );
  }
  return out;
}
