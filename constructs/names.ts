import { MANAGED_BY, PART_OF } from './platform';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PARAMETER_NAME = /^[a-zA-Z0-9][-a-zA-Z0-9_]*$/;

/**
 * Problem with a name used as a Kubernetes object name, an Argo template/task name or a
 * container name (all must be RFC 1123 DNS labels here so one rule covers every use).
 * Returns undefined when the name is valid.
 */
export function dnsLabelProblem(what: string, name: string): string | undefined {
  if (name.length > 63) return `${what} "${name}" is ${name.length} characters; use at most 63`;
  if (!DNS_LABEL.test(name)) {
    return `${what} "${name}" is not a valid Kubernetes name; use lowercase letters, digits and '-', starting and ending with a letter or digit`;
  }
  return undefined;
}

const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Problem with a string used as a Kubernetes label value (e.g. a version). */
export function labelValueProblem(what: string, value: string): string | undefined {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    return `${what} "${value}" is not a valid label value; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export function parameterNameProblem(what: string, name: string): string | undefined {
  if (!PARAMETER_NAME.test(name)) {
    return `${what} "${name}" is not a valid Argo parameter name; use letters, digits, '-' and '_', starting with a letter or digit`;
  }
  return undefined;
}

/** The `app.kubernetes.io/*` labels every emitted object and pod carries. */
export function standardLabels(name: string, component: string, version?: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    ...(version ? { 'app.kubernetes.io/version': version } : {}),
  };
}

export { failAt } from './errors';
