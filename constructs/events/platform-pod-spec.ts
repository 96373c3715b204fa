/**
 * Spec fields every platform WorkflowTemplate that runs a short pod of its own shares (the
 * bare-reference dispatcher, per-feature callbacks): failed pods kept for their logs, finished
 * runs kept a day after success and a week after failure, the pods labelled as the template and
 * run as a non-root user under the RuntimeDefault seccomp profile.
 */
export function platformPodSpec(labels: Record<string, string>): Record<string, unknown> {
  return {
    podGC: { strategy: 'OnPodSuccess' },
    ttlStrategy: { secondsAfterSuccess: 3600, secondsAfterFailure: 604800 },
    podMetadata: { labels },
    securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  };
}
