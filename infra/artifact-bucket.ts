import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { encryptionKey } from './kms';
import { podIdentityTrustPolicy, policyDocument } from './iam';

/** Where a Kubernetes service account gets bucket access through EKS Pod Identity. */
export interface BucketAccessBinding {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** `read-write` for workflow pods; `read` for viewers such as the Argo server UI. */
  readonly access: 'read-write' | 'read';
  /**
   * Only objects under this key prefix (e.g. `payloads/`), listing included: the state service
   * reads payloads for their projections and nothing else. Default: the whole bucket.
   */
  readonly prefix?: string;
}

export interface ArtifactBucketArgs {
  /** Globally unique bucket name. Default: a name Pulumi derives from the resource name. */
  readonly bucketName?: string;
  /** Days before objects under the intermediate prefixes expire. Default 30. */
  readonly intermediateExpiryDays?: number;
  /** Prefixes holding intermediate data (task payloads, Argo artifacts and logs). Default `payloads/`, `artifacts/`. */
  readonly intermediatePrefixes?: string[];
  /** Delete objects with the bucket on `pulumi destroy` (dev only). Default false. */
  readonly forceDestroy?: boolean;
  /** KMS key deletion window in days. Default 30. */
  readonly keyDeletionWindowDays?: number;
  /** EKS cluster whose service accounts get access. Without it, roles are made but not bound. */
  readonly clusterName?: pulumi.Input<string>;
  /** Service accounts to bind. Default: `swoop/swoop-workflow` read-write. */
  readonly bindings?: BucketAccessBinding[];
  readonly tags?: Record<string, string>;
}

/**
 * The S3 bucket holding payloads and Argo artifacts: no public access whatsoever, ACLs
 * disabled (bucket owner enforced), SSE-KMS with a dedicated key and S3 bucket keys, TLS
 * required by policy, and lifecycle expiry of intermediate data. Access is through IAM roles
 * bound to service accounts with Pod Identity, scoped to this bucket and key only.
 */
export class ArtifactBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;
  /** Role ARNs keyed `<namespace>/<service account>`. */
  public readonly roleArns: Record<string, pulumi.Output<string>> = {};
  /** Role names keyed like roleArns, for grants other components add (data buckets). */
  public readonly roleNames: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: ArtifactBucketArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:ArtifactBucket', name, {}, opts);
    const parent = { parent: this };
    const expiryDays = args.intermediateExpiryDays ?? 30;
    if (!Number.isInteger(expiryDays) || expiryDays < 1) {
      throw new Error(`ArtifactBucket intermediateExpiryDays must be a whole number of days >= 1 (got ${expiryDays})`);
    }

    const key = encryptionKey(`${name}-artifacts`, `S3 bucket ${name} server-side encryption`, this, args.keyDeletionWindowDays, args.tags);
    this.keyArn = key.arn;
    const bucket = new aws.s3.Bucket(name, { bucket: args.bucketName, forceDestroy: args.forceDestroy ?? false, tags: args.tags }, parent);
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;

    const publicBlock = new aws.s3.BucketPublicAccessBlock(name, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, parent);
    new aws.s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(name, {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
    }, parent);
    new aws.s3.BucketVersioning(name, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, parent);
    new aws.s3.BucketLifecycleConfiguration(name, {
      bucket: bucket.id,
      rules: [
        ...(args.intermediatePrefixes ?? ['payloads/', 'artifacts/']).map((prefix) => ({
          id: `expire-${prefix.replace(/\/$/, '')}`,
          status: 'Enabled',
          filter: { prefix },
          expiration: { days: expiryDays },
        })),
        {
          id: 'housekeeping',
          status: 'Enabled',
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: 7 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
          expiration: { expiredObjectDeleteMarker: true },
        },
      ],
    }, parent);
    // Applied after the public access block so S3 evaluates the policy as non-public.
    new aws.s3.BucketPolicy(name, {
      bucket: bucket.id,
      policy: policyDocument([{
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }]),
    }, { parent: this, dependsOn: [publicBlock] });

    for (const binding of args.bindings ?? [{ namespace: 'swoop', serviceAccount: 'swoop-workflow', access: 'read-write' as const }]) {
      const role = this.grant(name, binding, bucket, key, args);
      this.roleArns[`${binding.namespace}/${binding.serviceAccount}`] = role.arn;
      this.roleNames[`${binding.namespace}/${binding.serviceAccount}`] = role.name;
    }
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, keyArn: this.keyArn, roleArns: this.roleArns });
  }

  private grant(name: string, binding: BucketAccessBinding, bucket: aws.s3.Bucket, key: aws.kms.Key, args: ArtifactBucketArgs): aws.iam.Role {
    const id = `${name}-${binding.namespace}-${binding.serviceAccount}`;
    const objectActions = binding.access === 'read-write' ? ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'] : ['s3:GetObject'];
    const keyActions = binding.access === 'read-write' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
    const role = new aws.iam.Role(id, {
      assumeRolePolicy: podIdentityTrustPolicy({ clusterName: args.clusterName, namespace: binding.namespace, serviceAccount: binding.serviceAccount }),
      tags: args.tags,
    }, { parent: this });
    const prefix = binding.prefix;
    if (prefix !== undefined && !/^[A-Za-z0-9!_.()'-]+(\/[A-Za-z0-9!_.()'-]+)*\/$/.test(prefix)) {
      throw new Error(`ArtifactBucket binding ${binding.namespace}/${binding.serviceAccount}: prefix "${prefix}" must be a key prefix ending in "/" without wildcards, e.g. "payloads/"`);
    }
    new aws.iam.RolePolicy(id, {
      role: role.id,
      policy: policyDocument([
        // With a prefix, listing is limited to it: a missing key under it is then 404, not 403.
        prefix === undefined
          ? { Sid: 'ListBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: bucket.arn }
          : { Sid: 'ListPrefix', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: bucket.arn, Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } },
        { Sid: 'Objects', Effect: 'Allow', Action: objectActions, Resource: pulumi.interpolate`${bucket.arn}/${prefix ?? ''}*` },
        { Sid: 'BucketKey', Effect: 'Allow', Action: keyActions, Resource: key.arn },
      ]),
    }, { parent: this });
    if (args.clusterName) {
      new aws.eks.PodIdentityAssociation(id, {
        clusterName: args.clusterName,
        namespace: binding.namespace,
        serviceAccount: binding.serviceAccount,
        roleArn: role.arn,
      }, { parent: this });
    }
    return role;
  }
}
