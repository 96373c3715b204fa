/**
 * The name rules at their boundaries: Kubernetes would refuse a 64-character name or one
 * ending in '-' only at apply time, so synth must, with the exact message it prints.
 */
import { describe, expect, it } from 'vitest';
import { dnsLabelProblem, labelValueProblem, parameterNameProblem, standardLabels } from '../../constructs/names';

const KUBERNETES_NAME = `use lowercase letters, digits and '-', starting and ending with a letter or digit`;

describe('dnsLabelProblem', () => {
  it('accepts names up to 63 characters of lowercase letters, digits and inner dashes', () => {
    for (const name of ['a', '0', 'a-b', 'step-1', 'a--b', 'a'.repeat(63), `a${'-'.repeat(61)}b`]) expect(dnsLabelProblem('step', name)).toBeUndefined();
  });

  it('refuses 64 characters, naming the length', () => {
    expect(dnsLabelProblem('step', 'a'.repeat(64))).toBe(`step "${'a'.repeat(64)}" is 64 characters; use at most 63`);
  });

  it.each(['', 'step_1', 'my-step-', '-step', 'Step', 'st.ep', 'st ep', 'é'])('refuses %j with what to use', (name) => {
    expect(dnsLabelProblem('task', name)).toBe(`task "${name}" is not a valid Kubernetes name; ${KUBERNETES_NAME}`);
  });
});

describe('labelValueProblem', () => {
  const message = (v: string) => `version "${v}" is not a valid label value; use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;

  it('accepts empty values and values up to 63 characters', () => {
    for (const v of ['', '1', 'v1', '1.2.3', 'A_b-c.D', 'x'.repeat(63), `a${'._-'.repeat(20)}z`]) expect(labelValueProblem('version', v)).toBeUndefined();
  });

  it.each(['x'.repeat(64), '-v1', 'v1.', '_a', 'a/b', 'v 1', '.'])('refuses %j', (v) => {
    expect(labelValueProblem('version', v)).toBe(message(v));
  });
});

describe('parameterNameProblem', () => {
  it('accepts letters, digits, dashes and underscores after a letter or digit', () => {
    for (const name of ['a', 'A', '0', 'input', 'payload-id', 'my_param', 'a-_b', 'x1']) expect(parameterNameProblem('parameter', name)).toBeUndefined();
  });

  it.each(['', '-a', '_a', 'a.b', 'a b', 'a/b', 'é'])('refuses %j', (name) => {
    expect(parameterNameProblem('parameter', name)).toBe(`parameter "${name}" is not a valid Argo parameter name; use letters, digits, '-' and '_', starting with a letter or digit`);
  });
});

describe('standardLabels', () => {
  it('labels name, component, part-of and managed-by, and the version only when given', () => {
    const base = {
      'app.kubernetes.io/name': 'cogify',
      'app.kubernetes.io/component': 'task',
      'app.kubernetes.io/part-of': 'swoop',
      'app.kubernetes.io/managed-by': 'swoop-platform',
    };
    expect(standardLabels('cogify', 'task')).toEqual(base);
    expect(standardLabels('cogify', 'task', '')).toEqual(base);
    expect(standardLabels('cogify', 'task', '1.2.0')).toEqual({ ...base, 'app.kubernetes.io/version': '1.2.0' });
  });
});
