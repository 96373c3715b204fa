/**
 * A small evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1) semantics, as the
 * Kubernetes documentation defines them (concepts/services-networking/network-policies):
 * - a pod is isolated for ingress (egress) when some policy of its namespace selects it with
 *   that policy type; an isolated pod accepts (sends) only what some such policy allows, the
 *   union of all of them; a pod no policy selects is not restricted;
 * - a connection needs both the source's egress and the destination's ingress to allow it;
 * - `policyTypes` defaults to Ingress, plus Egress when the policy has egress rules;
 * - a rule without `from`/`to` matches every peer, without `ports` every port;
 * - a peer's podSelector alone means pods of the policy's namespace; namespaceSelector alone
 *   all pods of the matching namespaces; both in one peer, the matching pods of the matching
 *   namespaces; ipBlock matches by address (`except` excluded);
 * - a port is a number (with `endPort`, a range) or a name resolved on the destination pod;
 *   protocol defaults to TCP.
 * ipBlock against pod addresses is left to the implementation by Kubernetes; with the VPC CNI
 * pods have VPC addresses, so here an ipBlock matches pods in its range too.
 */

export type Labels = Readonly<Record<string, string>>;
export interface Selector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[];
}
export interface Peer { readonly podSelector?: Selector; readonly namespaceSelector?: Selector; readonly ipBlock?: { cidr: string; except?: readonly string[] } }
export interface Port { readonly protocol?: string; readonly port?: number | string; readonly endPort?: number }
export interface Policy {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: {
    readonly podSelector: Selector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: readonly { from?: readonly Peer[]; ports?: readonly Port[] }[];
    readonly egress?: readonly { to?: readonly Peer[]; ports?: readonly Port[] }[];
  };
}

/** A pod (with a namespace) or an address outside the cluster (without). */
export interface Endpoint {
  readonly name: string;
  readonly ip: string;
  readonly namespace?: string;
  readonly labels?: Labels;
  /** Named container ports. */
  readonly namedPorts?: Readonly<Record<string, number>>;
}

export function selects(selector: Selector, labels: Labels = {}): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const ok = e.operator === 'In' ? has && (e.values ?? []).includes(labels[e.key])
      : e.operator === 'NotIn' ? !has || !(e.values ?? []).includes(labels[e.key])
        : e.operator === 'Exists' ? has
          : e.operator === 'DoesNotExist' ? !has
            : (() => { throw new Error(`unknown selector operator ${e.operator}`); })();
    if (!ok) return false;
  }
  return true;
}

const ipNumber = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipNumber(base) / size) * size;
  const n = ipNumber(ip);
  return n >= start && n < start + size;
}

export class Cluster {
  constructor(
    private readonly policies: readonly Policy[],
    /** Namespace name -> its labels (kubernetes.io/metadata.name is added). */
    private readonly namespaces: Readonly<Record<string, Labels>>,
  ) {}

  private nsLabels(ns: string): Labels {
    return { ...(this.namespaces[ns] ?? {}), 'kubernetes.io/metadata.name': ns };
  }

  private types(p: Policy): readonly string[] {
    return p.spec.policyTypes ?? ['Ingress', ...(p.spec.egress ? ['Egress'] : [])];
  }

  private peerMatches(peer: Peer, policyNs: string, ep: Endpoint): boolean {
    if (peer.ipBlock) return inCidr(ep.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ep.ip, c));
    if (ep.namespace === undefined) return false;
    const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, this.nsLabels(ep.namespace)) : ep.namespace === policyNs;
    return nsOk && (peer.podSelector ? selects(peer.podSelector, ep.labels) : true);
  }

  private portMatches(ports: readonly Port[] | undefined, port: number, protocol: string, dest: Endpoint): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== protocol) return false;
      if (p.port === undefined) return true;
      const first = typeof p.port === 'number' ? p.port : dest.namedPorts?.[p.port];
      if (first === undefined) return false;
      return port >= first && port <= (p.endPort ?? first);
    });
  }

  /** The policies that make `ep` isolated in `direction`. */
  private isolating(ep: Endpoint, direction: 'Ingress' | 'Egress'): Policy[] {
    if (ep.namespace === undefined) return [];
    return this.policies.filter((p) => p.metadata.namespace === ep.namespace && this.types(p).includes(direction) && selects(p.spec.podSelector, ep.labels));
  }

  egressAllows(from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
    const policies = this.isolating(from, 'Egress');
    if (policies.length === 0) return true;
    return policies.some((p) => (p.spec.egress ?? []).some((rule) =>
      (!rule.to || rule.to.length === 0 || rule.to.some((peer) => this.peerMatches(peer, p.metadata.namespace, to))) && this.portMatches(rule.ports, port, protocol, to)));
  }

  ingressAllows(from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
    const policies = this.isolating(to, 'Ingress');
    if (policies.length === 0) return true;
    return policies.some((p) => (p.spec.ingress ?? []).some((rule) =>
      (!rule.from || rule.from.length === 0 || rule.from.some((peer) => this.peerMatches(peer, p.metadata.namespace, from))) && this.portMatches(rule.ports, port, protocol, to)));
  }

  /** Whether a connection from `from` to `to` on `port` gets through both ends' policies. */
  allows(from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
    return this.egressAllows(from, to, port, protocol) && this.ingressAllows(from, to, port, protocol);
  }
}
