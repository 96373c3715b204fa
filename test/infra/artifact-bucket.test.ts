import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, policy, valueOf } from './support/pulumi-mocks';

const rec = new ResourceRecorder();

describe('ArtifactBucket on its own (no cluster)', () => {
  beforeAll(async () => {
    await rec.install('unit');
    const { ArtifactBucket } = await import('../../infra/artifact-bucket');
    const bucket = new ArtifactBucket('art', { bucketName: 'my-artifacts', intermediateExpiryDays: 5 });
    await valueOf(bucket.bucketArn);
    await rec.settle();
  });

  it('blocks public access, enforces ownership, encrypts with its own rotating KMS key', () => {
    expect(rec.one('aws:s3/bucket:Bucket').inputs).toMatchObject({ bucket: 'my-artifacts', forceDestroy: false });
    expect(rec.one('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs).toMatchObject({
      bucket: 'art-id', blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    });
    expect(rec.one('aws:s3/bucketOwnershipControls:BucketOwnershipControls').inputs.rule).toEqual({ objectOwnership: 'BucketOwnerEnforced' });
    const sse = rec.one('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs.rules[0];
    expect(sse).toEqual({ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'arn:aws:kms:us-west-2:123456789012:key/art-artifacts' }, bucketKeyEnabled: true });
    expect(rec.one('aws:kms/key:Key').inputs.enableKeyRotation).toBe(true);
  });

  it('denies any request made without TLS', () => {
    const [deny] = policy(rec.one('aws:s3/bucketPolicy:BucketPolicy').inputs.policy).Statement;
    expect(deny).toEqual({
      Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*',
      Resource: ['arn:aws:s3:::my-artifacts', 'arn:aws:s3:::my-artifacts/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('expires intermediate payloads and artifacts after the configured days and cleans up uploads', () => {
    const rules = rec.one('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs.rules;
    expect(rules.filter((r: any) => r.expiration?.days).map((r: any) => [r.filter.prefix, r.expiration.days])).toEqual([['payloads/', 5], ['artifacts/', 5]]);
    const housekeeping = rules.find((r: any) => r.id === 'housekeeping');
    expect(housekeeping.abortIncompleteMultipartUpload.daysAfterInitiation).toBeGreaterThan(0);
    expect(housekeeping.noncurrentVersionExpiration.noncurrentDays).toBeGreaterThan(0);
  });

  it('makes a least-privilege workflow role (this bucket and key only) but binds nothing without a cluster', () => {
    const statements = policy(rec.one('aws:iam/rolePolicy:RolePolicy').inputs.policy).Statement;
    expect(statements).toEqual([
      { Sid: 'ListBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: 'arn:aws:s3:::my-artifacts' },
      { Sid: 'Objects', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: 'arn:aws:s3:::my-artifacts/*' },
      { Sid: 'BucketKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: 'arn:aws:kms:us-west-2:123456789012:key/art-artifacts' },
    ]);
    const trust = policy(rec.one('aws:iam/role:Role').inputs.assumeRolePolicy).Statement[0];
    expect(trust.Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
    expect(trust.Action).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    // Without a cluster the role is still pinned to its namespace and service account.
    expect(trust.Condition).toEqual({ StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'swoop', 'aws:RequestTag/kubernetes-service-account': 'swoop-workflow' } });
    expect(rec.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation')).toHaveLength(0);
  });

  it('refuses a nonsensical expiry, naming the field', async () => {
    const { ArtifactBucket } = await import('../../infra/artifact-bucket');
    expect(() => new ArtifactBucket('bad', { intermediateExpiryDays: 0 })).toThrow(/intermediateExpiryDays must be a whole number of days >= 1 \(got 0\)/);
  });
});

describe('ArtifactBucket bound to a cluster', () => {
  it('refuses a binding prefix that is not a plain key prefix ending in "/", naming the binding', async () => {
    const r = new ResourceRecorder();
    await r.install('unit-prefix');
    const { ArtifactBucket } = await import('../../infra/artifact-bucket');
    for (const prefix of ['payloads', 'pay*/', '/payloads/']) {
      expect(() => new ArtifactBucket(`bad-${prefix.length}`, { bindings: [{ namespace: 'swoop', serviceAccount: 'swoop-state', access: 'read', prefix }] }))
        .toThrow(`ArtifactBucket binding swoop/swoop-state: prefix "${prefix}" must be a key prefix ending in "/" without wildcards, e.g. "payloads/"`);
    }
  });

  it('the state service account infra binds is the one the construct library names', async () => {
    const { STATE_SERVICE_ACCOUNT } = await import('../../infra/platform');
    const { STATE_SERVICE_NAME } = await import('../../constructs/state-service');
    expect(STATE_SERVICE_ACCOUNT).toBe(STATE_SERVICE_NAME);
  });

  it('binds each service account with Pod Identity; readers get read-only access', async () => {
    const r = new ResourceRecorder();
    await r.install('unit-bound');
    const { ArtifactBucket } = await import('../../infra/artifact-bucket');
    const bucket = new ArtifactBucket('art', {
      clusterName: 'c1',
      bindings: [
        { namespace: 'swoop', serviceAccount: 'swoop-workflow', access: 'read-write' },
        { namespace: 'argo', serviceAccount: 'argo-workflows-server', access: 'read' },
        { namespace: 'swoop', serviceAccount: 'swoop-state', access: 'read', prefix: 'payloads/' },
      ],
    });
    await valueOf(bucket.roleArns['argo/argo-workflows-server']);
    await r.settle();
    expect(r.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation').map((p) => p.inputs)).toEqual([
      { clusterName: 'c1', namespace: 'swoop', serviceAccount: 'swoop-workflow', roleArn: 'arn:aws:iam::123456789012:role/art-swoop-swoop-workflow' },
      { clusterName: 'c1', namespace: 'argo', serviceAccount: 'argo-workflows-server', roleArn: 'arn:aws:iam::123456789012:role/art-argo-argo-workflows-server' },
      { clusterName: 'c1', namespace: 'swoop', serviceAccount: 'swoop-state', roleArn: 'arn:aws:iam::123456789012:role/art-swoop-swoop-state' },
    ]);
    // A prefix binding: objects under the prefix only, listing limited to it (a missing key is 404, not 403).
    expect(policy(r.one('aws:iam/rolePolicy:RolePolicy', 'art-swoop-swoop-state').inputs.policy).Statement).toEqual([
      { Sid: 'ListPrefix', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${await valueOf(bucket.bucketName)}`, Condition: { StringLike: { 's3:prefix': ['payloads/*'] } } },
      { Sid: 'Objects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${await valueOf(bucket.bucketName)}/payloads/*` },
      { Sid: 'BucketKey', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: 'arn:aws:kms:us-west-2:123456789012:key/art-artifacts' },
    ]);
    const reader = policy(r.one('aws:iam/rolePolicy:RolePolicy', 'art-argo-argo-workflows-server').inputs.policy).Statement;
    expect(reader.flatMap((s: any) => s.Action)).toEqual(['s3:ListBucket', 's3:GetBucketLocation', 's3:GetObject', 'kms:Decrypt']);
    const trust = policy(r.one('aws:iam/role:Role', 'art-swoop-swoop-workflow').inputs.assumeRolePolicy).Statement[0];
    expect(trust.Condition).toEqual({ StringEquals: {
      'aws:RequestTag/eks-cluster-name': 'c1', 'aws:RequestTag/kubernetes-namespace': 'swoop', 'aws:RequestTag/kubernetes-service-account': 'swoop-workflow',
    } });
  });
});
