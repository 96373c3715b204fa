import { COMPUTE_CLASS_LABEL, COMPUTE_CLASSES } from '../constructs/compute-classes';

/**
 * Pod placement on the system pool, for controllers and platform services: its class label,
 * and tolerations derived from its taints in COMPUTE_CLASSES (so the two cannot drift).
 */
export const SYSTEM_POOL = {
  nodeSelector: { [COMPUTE_CLASS_LABEL]: 'system' },
  tolerations: COMPUTE_CLASSES.system.taints.map((t) => ({ key: t.key, operator: 'Exists', effect: t.effect })),
};
