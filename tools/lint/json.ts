/** Narrowing helpers for untyped YAML, plus the field-path notation problems use. */

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Json {
  return isObject(value) ? value : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function objects(value: unknown): Json[] {
  return list(value).filter(isObject);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Path segment of one list element: its `name` when it has one (what reviewers see in
 * the YAML), its index otherwise.
 */
export function at(base: string, element: unknown, index: number): string {
  const name = isObject(element) ? str(element.name) : undefined;
  return `${base}[${name ?? index}]`;
}

/** Every string inside a value, with its path; `skip` prunes keys of any object. */
export function* strings(value: unknown, path: string, skip: ReadonlySet<string> = NO_SKIP): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [value, path];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* strings(value[i], at(path, value[i], i), skip);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (!skip.has(key)) yield* strings(child, `${path}.${key}`, skip);
    }
  }
}

const NO_SKIP: ReadonlySet<string> = new Set();
