/**
 * The smallest fixes for the defects this suite found in the generated lifecycle templates
 * (docs/e2e.md lists them with their owners). The flow tests apply them so the rest of the
 * chain stays checked while a defect is open; the `as generated` tests run without them and
 * fail until the owner lands the fix, after which each fix here matches nothing and is a no-op.
 */
import type { Doc } from './argo';

export interface ProposedFix {
  readonly id: string;
  readonly owner: string;
  readonly why: string;
  /** Patches `template` in place; true when it changed anything. */
  apply(template: Doc): boolean;
}

function httpTemplates(wt: Doc): Doc[] {
  return (wt.spec.templates as Doc[]).filter((t) => t.http);
}

export const CREATION_TIMESTAMP_FIX: ProposedFix = {
  id: 'creation-timestamp',
  owner: 'constructs/lifecycle.ts',
  why: 'in an expression, workflow.creationTimestamp is a map (Argo drops a key that prefixes others); workflow.creationTimestamp.RFC3339 is the string',
  apply(wt) {
    let changed = false;
    for (const t of httpTemplates(wt)) {
      const body = String(t.http.body ?? '');
      const fixed = body.split('string(workflow.creationTimestamp)').join('workflow.creationTimestamp.RFC3339');
      if (fixed !== body) {
        t.http.body = fixed;
        changed = true;
      }
    }
    return changed;
  },
};

export const PROPOSED_FIXES = [CREATION_TIMESTAMP_FIX] as const;

/** A deep copy of `template` with the given fixes applied. */
export function withFixes(template: Doc, fixes: readonly ProposedFix[] = PROPOSED_FIXES): Doc {
  const copy = structuredClone(template);
  for (const fix of fixes) fix.apply(copy);
  return copy;
}
