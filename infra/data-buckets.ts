import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { encryptionKey } from './kms';
import { policyDocument, type Statement } from './iam';

/** A bucket workflows write to (a publish bucket, say). */
export interface WriteBucket {
  readonly name: string;
  /** The stack creates (and owns) the bucket. Default false: it exists elsewhere. */
  readonly create?: boolean;
  /**
   * Anyone may read its objects (a public STAC catalogue's assets). Only for a bucket the
   * stack creates; it is then SSE-S3 encrypted (anonymous readers cannot use a KMS key)
   * and its policy allows exactly `s3:GetObject` to everyone. Default false: all public
   * access blocked.
   */
  readonly publicRead?: boolean;
}

export interface DataBucketsArgs {
  /** Buckets workflows only read (e.g. public source data). */
  readonly read?: readonly string[];
  readonly write?: readonly WriteBucket[];
  /** Name of the workflow pods' role (ArtifactBucket.roleNames['swoop/swoop-workflow']). */
  readonly workflowRoleName: pulumi.Input<string>;
  /** Delete objects with created buckets on `pulumi destroy` (dev only). Default false. */
  readonly forceDestroy?: boolean;
  readonly keyDeletionWindowDays?: number;
  readonly tags?: Record<string, string>;
}

/** Object actions per access; bucket-level `s3:ListBucket` and `s3:GetBucketLocation` come with both. */
export const DATA_READ_ACTIONS = ['s3:GetObject'] as const;
export const DATA_WRITE_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'] as const;
export const DATA_BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketLocation'] as const;
/** Tag marking a bucket DataBuckets created, with its access (`write` or `public-read`). */
export const DATA_BUCKET_TAG = 'swoop.dev/data-bucket';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The data buckets a stack declares: the workflow role gets exactly the declared grants on
 * exactly those buckets (by ARN, never a wildcard), and the write buckets the stack creates
 * are versioned, encrypted, TLS-only, owner-enforced, with public access blocked unless
 * `publicRead` (then object reads only).
 */
export class DataBuckets extends pulumi.ComponentResource {
  /** Created buckets by name. */
  public readonly created: Record<string, aws.s3.Bucket> = {};

  constructor(name: string, args: DataBucketsArgs, opts?: pulumi.ComponentResourceOptions) {
    const read = args.read ?? [];
    const write = args.write ?? [];
    const problems = [
      ...[...read, ...write.map((w) => w.name)].filter((b) => !BUCKET_NAME.test(b)).map((b) => `"${b}" is not a valid S3 bucket name`),
      ...read.filter((b) => write.some((w) => w.name === b)).map((b) => `"${b}" is listed as read and write (write includes read)`),
      ...write.filter((w) => w.publicRead && !w.create).map((w) => `"${w.name}" has publicRead but create is false (public access is set on buckets the stack creates)`),
    ];
    if (problems.length > 0) throw new Error(`DataBuckets ${name}: ${problems.join('; ')}`);
    super('swoop:infra:DataBuckets', name, {}, opts);

    const arn = (bucket: string) => `arn:aws:s3:::${bucket}`;
    const keyArns: pulumi.Output<string>[] = [];
    for (const w of write.filter((b) => b.create)) {
      const { bucket, keyArn } = this.createBucket(name, w, args);
      this.created[w.name] = bucket;
      if (keyArn) keyArns.push(keyArn);
    }

    const all = [...read, ...write.map((w) => w.name)];
    if (all.length === 0) {
      this.registerOutputs({});
      return;
    }
    const statements: Statement[] = [{ Sid: 'DataBuckets', Effect: 'Allow', Action: [...DATA_BUCKET_ACTIONS], Resource: all.map(arn) }];
    if (read.length > 0) statements.push({ Sid: 'ReadData', Effect: 'Allow', Action: [...DATA_READ_ACTIONS], Resource: read.map((b) => `${arn(b)}/*`) });
    if (write.length > 0) statements.push({ Sid: 'WriteData', Effect: 'Allow', Action: [...DATA_WRITE_ACTIONS], Resource: write.map((w) => `${arn(w.name)}/*`) });
    if (keyArns.length > 0) statements.push({ Sid: 'DataKeys', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArns });
    new aws.iam.RolePolicy(`${name}-workflow-access`, { role: args.workflowRoleName, policy: policyDocument(statements) }, { parent: this, dependsOn: Object.values(this.created) });
    this.registerOutputs({ created: Object.keys(this.created) });
  }

  private createBucket(name: string, w: WriteBucket, args: DataBucketsArgs): { bucket: aws.s3.Bucket; keyArn?: pulumi.Output<string> } {
    const id = `${name}-${w.name}`;
    const parent = { parent: this };
    const bucket = new aws.s3.Bucket(id, {
      bucket: w.name,
      forceDestroy: args.forceDestroy ?? false,
      tags: { ...args.tags, [DATA_BUCKET_TAG]: w.publicRead ? 'public-read' : 'write' },
    }, parent);
    // Public read goes through the bucket policy only: ACLs stay blocked and ignored.
    const block = new aws.s3.BucketPublicAccessBlock(id, {
      bucket: bucket.id,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: !w.publicRead,
      restrictPublicBuckets: !w.publicRead,
    }, parent);
    new aws.s3.BucketOwnershipControls(id, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, parent);
    const key = w.publicRead ? undefined : encryptionKey(id, `S3 data bucket ${w.name} server-side encryption`, this, args.keyDeletionWindowDays, args.tags);
    new aws.s3.BucketServerSideEncryptionConfiguration(id, {
      bucket: bucket.id,
      rules: [key
        ? { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }
        : { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    }, parent);
    new aws.s3.BucketVersioning(id, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, parent);
    new aws.s3.BucketLifecycleConfiguration(id, {
      bucket: bucket.id,
      rules: [{
        id: 'housekeeping',
        status: 'Enabled',
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: 30 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
        expiration: { expiredObjectDeleteMarker: true },
      }],
    }, parent);
    const statements: Statement[] = [{
      Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*',
      Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }];
    if (w.publicRead) statements.push({ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: pulumi.interpolate`${bucket.arn}/*` });
    new aws.s3.BucketPolicy(id, { bucket: bucket.id, policy: policyDocument(statements) }, { parent: this, dependsOn: [block] });
    return { bucket, keyArn: key?.arn };
  }
}
