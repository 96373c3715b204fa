import { NO_NAME, type LintDocument } from './documents';

/**
 * The set being checked, indexed by kind and name. A reference resolves within its own
 * namespace; a document without `metadata.namespace` matches any namespace, because
 * hand-written YAML usually leaves the namespace to `kubectl apply -n`.
 */
export class Inventory {
  private readonly byKindName = new Map<string, LintDocument[]>();

  constructor(readonly documents: readonly LintDocument[]) {
    for (const doc of documents) {
      const key = `${doc.kind}/${doc.name}`;
      const docs = this.byKindName.get(key);
      if (docs) docs.push(doc);
      else this.byKindName.set(key, [doc]);
    }
  }

  /** The document of `kind` named `name` visible from `namespace` (cluster-scoped kinds ignore it). */
  find(kind: string, name: string, namespace: string | undefined): LintDocument | undefined {
    const docs = this.byKindName.get(`${kind}/${name}`) ?? [];
    if (CLUSTER_SCOPED.has(kind)) return docs[0];
    return docs.find((d) => d.namespace === undefined || namespace === undefined || d.namespace === namespace);
  }

  ofKind(...kinds: string[]): LintDocument[] {
    return this.documents.filter((d) => kinds.includes(d.kind));
  }

  /** Groups of documents that would overwrite each other when applied. */
  duplicates(): LintDocument[][] {
    const groups: LintDocument[][] = [];
    for (const docs of this.byKindName.values()) {
      const seen = new Map<string, LintDocument[]>();
      for (const doc of docs) {
        if (doc.generated || doc.name === NO_NAME) continue;
        const ns = CLUSTER_SCOPED.has(doc.kind) ? '' : (doc.namespace ?? '');
        const group = seen.get(ns);
        if (group) group.push(doc);
        else seen.set(ns, [doc]);
      }
      groups.push(...[...seen.values()].filter((g) => g.length > 1));
    }
    return groups;
  }
}

const CLUSTER_SCOPED = new Set(['ClusterWorkflowTemplate', 'ClusterRole', 'ClusterRoleBinding', 'Namespace', 'StorageClass']);
