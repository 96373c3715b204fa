import { PLATFORM_CONFIGMAP } from './platform';

/**
 * Keys of ConfigMap swoop-platform that a manifest reads (`configMapKeyRef` anywhere in it:
 * workflow parameters, container env), sorted, each once.
 */
export function platformValueReads(manifest: unknown): string[] {
  const keys = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const ref = (node as { configMapKeyRef?: { name?: unknown; key?: unknown } }).configMapKeyRef;
      if (ref && ref.name === PLATFORM_CONFIGMAP && typeof ref.key === 'string') keys.add(ref.key);
      Object.values(node).forEach(visit);
    }
  };
  visit(manifest);
  return [...keys].sort();
}
