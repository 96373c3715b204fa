import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/**
 * A customer-managed KMS key with yearly rotation, one per purpose so a key policy or
 * deletion never spans unrelated data. Dev stacks shorten the deletion window.
 */
export function encryptionKey(
  name: string,
  description: string,
  parent: pulumi.Resource,
  deletionWindowInDays = 30,
  tags?: Record<string, string>,
  /** Key policy; default AWS's (the account's IAM policies decide). */
  policy?: pulumi.Input<string>,
): aws.kms.Key {
  const key = new aws.kms.Key(name, { description, enableKeyRotation: true, deletionWindowInDays, tags, ...(policy ? { policy } : {}) }, { parent });
  new aws.kms.Alias(name, { name: `alias/${name}`, targetKeyId: key.keyId }, { parent });
  return key;
}
