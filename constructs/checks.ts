/**
 * Checks that do not trust the type checker: props are checked when a construct is built
 * (code run without `tsc`, `as any`, JavaScript callers), and records of declared names
 * (step outputs, workflow parameters, task inputs) throw on a name nobody declared instead of
 * answering `undefined`, which would silently turn into the workflow input or the text
 * "undefined". Every failure is a ConstructPathError: `<path>: <what is wrong>; <what to do>`.
 */
import { failAt } from './errors';
import { EnvironmentValue } from './environment';

/** Property names that libraries probe on any object (promises, JSON, test matchers, React, inspectors); reading them is not a mistake. */
const PROBES = new Set(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType', 'tagName', 'inspect', '_isMockFunction', 'nodeName', 'jasmineToString']);

/**
 * `entries` as a read-only record whose unknown names throw: `unknown(name)` must throw
 * (typically failAt with the declared names and the fix).
 */
export function strictRecord<T>(entries: Record<string, T>, unknown: (name: string) => never): Record<string, T> {
  return new Proxy(entries, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target || PROBES.has(key) || key.startsWith('@@')) return Reflect.get(target, key, receiver);
      return unknown(key);
    },
  });
}

/** Names for a message: `a, b, c`, or `none`. */
export function listed(names: readonly string[]): string {
  return names.length ? names.join(', ') : 'none';
}

/** What a wrong value is, for a message: `the number 3600`, `the string "1h"`, `a Ref`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `the ${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    default: {
      const name = (value as object).constructor?.name;
      return name && name !== 'Object' ? `a ${name}` : 'an object';
    }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** A cdk8s Duration (by shape, so a second copy of cdk8s still passes). */
export function isDuration(v: unknown): boolean {
  return isObject(v) && typeof v.toSeconds === 'function';
}

/** Fails unless `value` is undefined or a Duration. */
export function checkDuration(path: string, prop: string, value: unknown): void {
  if (value === undefined || isDuration(value)) return;
  const hint = typeof value === 'number' ? `Duration.seconds(${value})` : 'Duration.minutes(30)';
  failAt(path, `${prop} is ${describeValue(value)}, not a Duration; use ${hint} (Duration from cdk8s)`);
}

/** Fails unless `value` is undefined or a cdk8s Size. */
export function checkSize(path: string, prop: string, value: unknown): void {
  if (value === undefined || (isObject(value) && typeof value.toMebibytes === 'function')) return;
  const hint = typeof value === 'number' ? `Size.mebibytes(${value})` : 'Size.gibibytes(4)';
  failAt(path, `${prop} is ${describeValue(value)}, not a Size; use ${hint} (Size from cdk8s)`);
}

/** Fails unless `value` is undefined or a cdk8s-plus Cpu. */
export function checkCpu(path: string, prop: string, value: unknown): void {
  if (value === undefined || (isObject(value) && typeof value.amount === 'string')) return;
  const hint = typeof value === 'number' ? `Cpu.units(${value})` : 'Cpu.millis(500)';
  failAt(path, `${prop} is ${describeValue(value)}, not a Cpu; use ${hint} (Cpu from cdk8s-plus-27)`);
}

/** Fails unless `value` is undefined or one of `allowed`. */
export function checkOneOf(path: string, prop: string, value: unknown, allowed: readonly string[]): void {
  if (value === undefined || (typeof value === 'string' && allowed.includes(value))) return;
  failAt(path, `${prop} is ${describeValue(value)}, which is not one of ${allowed.join(', ')}; use one of them`);
}

/** Fails unless `value` is undefined or a number (ranges are validation errors elsewhere). */
export function checkNumber(path: string, prop: string, value: unknown): void {
  if (value === undefined || (typeof value === 'number' && !Number.isNaN(value))) return;
  failAt(path, `${prop} is ${describeValue(value)}, not a number; give a number`);
}

/** Fails unless `value` is undefined or a boolean. */
export function checkBoolean(path: string, prop: string, value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return;
  failAt(path, `${prop} is ${describeValue(value)}, not a boolean; use true or false`);
}

/** Fails unless `value` is undefined or a string. */
export function checkString(path: string, prop: string, value: unknown): void {
  if (value === undefined || typeof value === 'string') return;
  failAt(path, `${prop} is ${describeValue(value)}, not a string; give a string`);
}

/** Fails unless `value` is undefined or an array of strings. */
export function checkStrings(path: string, prop: string, value: unknown): void {
  if (value === undefined || (Array.isArray(value) && value.every((v) => typeof v === 'string'))) return;
  failAt(path, `${prop} is ${describeValue(value)}, not a list of strings; give a list of strings`);
}

export const RETRY_POLICIES = ['Always', 'OnFailure', 'OnError', 'OnTransientError'] as const;

/** A task's `retry`: a RetryPolicy (limit a number, policy one of Argo's, backoff durations), `{ rules, backoff? }` or a list of rules. */
export function checkRetry(path: string, prop: string, retry: unknown): void {
  if (retry === undefined) return;
  if (Array.isArray(retry)) return checkRetryRules(path, prop, retry);
  if (!isObject(retry)) failAt(path, `${prop} is ${describeValue(retry)}, not a retry policy; give { limit, policy?, backoff? }, { rules, backoff? } or a list of rules`);
  if (retry.rules !== undefined) {
    if (!Array.isArray(retry.rules)) failAt(path, `${prop}.rules is ${describeValue(retry.rules)}, not a list; give [{ on, limit }, ...]`);
    checkRetryRules(path, `${prop}.rules`, retry.rules);
  } else if (typeof retry.limit !== 'number') failAt(path, `${prop}.limit is ${describeValue(retry.limit)}, not a number; give the number of retries`);
  checkNumber(path, `${prop}.limit`, retry.limit);
  checkOneOf(path, `${prop}.policy`, retry.policy, RETRY_POLICIES);
  const backoff = retry.backoff;
  if (backoff === undefined) return;
  if (!isObject(backoff)) failAt(path, `${prop}.backoff is ${describeValue(backoff)}, not an object; give { delay, factor?, cap?, maxDuration? }`);
  if (backoff.delay === undefined) failAt(path, `${prop}.backoff has no delay; give delay: Duration.seconds(10)`);
  checkDuration(path, `${prop}.backoff.delay`, backoff.delay);
  checkNumber(path, `${prop}.backoff.factor`, backoff.factor);
  checkDuration(path, `${prop}.backoff.cap`, backoff.cap);
  checkDuration(path, `${prop}.backoff.maxDuration`, backoff.maxDuration);
}

/** Retry rules (constructs/retry.ts): `{ on?, exitCodes?, message?, limit }` each. */
function checkRetryRules(path: string, prop: string, rules: readonly unknown[]): void {
  rules.forEach((rule, i) => {
    const at = `${prop}[${i}]`;
    if (!isObject(rule)) failAt(path, `${at} is ${describeValue(rule)}, not a retry rule; give { on?, exitCodes?, message?, limit }`);
    if (typeof rule.limit !== 'number') failAt(path, `${at}.limit is ${describeValue(rule.limit)}, not a number; give the number of retries`);
    checkStrings(path, `${at}.on`, rule.on);
    if (rule.exitCodes !== undefined && !(Array.isArray(rule.exitCodes) && rule.exitCodes.every((c) => typeof c === 'number'))) {
      failAt(path, `${at}.exitCodes is ${describeValue(rule.exitCodes)}, not a list of numbers; give e.g. [75]`);
    }
    if (rule.message !== undefined && typeof rule.message !== 'string' && !(rule.message instanceof RegExp)) {
      failAt(path, `${at}.message is ${describeValue(rule.message)}, neither a string nor a RegExp; give the text to find or a /pattern/`);
    }
  });
}

/** cdk8s-plus ContainerResources: Cpu for cpu, Size for memory and ephemeral storage. */
export function checkResources(path: string, resources: unknown): void {
  if (resources === undefined) return;
  if (!isObject(resources)) failAt(path, `resources is ${describeValue(resources)}, not an object; give { cpu?, memory?, ephemeralStorage? }`);
  for (const [key, check] of [['cpu', checkCpu], ['memory', checkSize], ['ephemeralStorage', checkSize]] as const) {
    const r = resources[key];
    if (r === undefined) continue;
    if (!isObject(r) || isDuration(r) || typeof r.amount === 'string' || typeof r.toMebibytes === 'function') {
      failAt(path, `resources.${key} is ${describeValue(r)}, not { request?, limit? }; give e.g. { request: ${key === 'cpu' ? 'Cpu.units(1)' : 'Size.gibibytes(1)'} }`);
    }
    check(path, `resources.${key}.request`, r.request);
    check(path, `resources.${key}.limit`, r.limit);
  }
}

/** The settings every container task and service task shares. */
export function checkContainer(path: string, settings: Record<string, unknown>): void {
  if (typeof settings.image !== 'string') failAt(path, `image is ${describeValue(settings.image)}, not a string; give a pinned image such as python:3.12.7`);
  checkStrings(path, 'command', settings.command);
  if (typeof settings.args !== 'function') checkStrings(path, 'args', settings.args);
  checkResources(path, settings.resources);
  checkNumber(path, 'gpus', settings.gpus);
  checkString(path, 'computeClass', settings.computeClass);
  checkNumber(path, 'runAsUser', settings.runAsUser);
  checkBoolean(path, 'readOnlyRootFilesystem', settings.readOnlyRootFilesystem);
}

/** Parameter declarations (task inputs, workflow parameters): string defaults, string enums. */
export function checkParameterSpecs(path: string, prop: string, specs: unknown, options: { environmentDefaults?: boolean } = {}): void {
  if (specs === undefined) return;
  if (!isObject(specs)) failAt(path, `${prop} is ${describeValue(specs)}, not an object; give { name: { default?, enum?, description? } }`);
  for (const [name, spec] of Object.entries(specs)) {
    if (!isObject(spec)) failAt(path, `${prop}.${name} is ${describeValue(spec)}, not an object; give {} or { default: '...' }`);
    // Workflow parameters may default to an environment value (constructs/environment.ts).
    if (!(options.environmentDefaults && EnvironmentValue.isEnvironmentValue(spec.default))) checkString(path, `${prop}.${name}.default`, spec.default);
    checkStrings(path, `${prop}.${name}.enum`, spec.enum);
    checkString(path, `${prop}.${name}.description`, spec.description);
    checkBoolean(path, `${prop}.${name}.list`, spec.list);
  }
}

/** Whether `text` is a JSON list (a `list: true` parameter's default must be one). */
export function isJsonList(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}
