import { beforeAll, describe, expect, it } from 'vitest';
import { policy, type Registered } from './support/pulumi-mocks';
import { builtStackConfig, runStack } from './support/stack-run';
import { loadStackConfig, type StackConfig } from '../../stacks/config';
import { loadEnvironment } from '../../stacks/environment';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DATA_BUCKET_TAG } from '../../infra/data-buckets';

/** Secrets the HTTP templates of dist/<stack>/ send as headers (this test's own reading of the manifests). */
function headerSecrets(stack: string): string[] {
  const dir = join(__dirname, '..', '..', 'dist', stack);
  const docs = readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON()));
  const names = docs.filter((d) => d?.kind === 'WorkflowTemplate').flatMap((d) => d.spec.templates.flatMap((t: any) => (t.http?.headers ?? []).map((h: any) => h.valueFrom?.secretKeyRef?.name)));
  return [...new Set(names.filter(Boolean))].sort() as string[];
}

/**
 * Security invariants of a whole stack, each a predicate over every resource the program
 * declares, returning the violations it finds (empty = holds). Run on dev and prod: no
 * environment may trade these away for cost.
 */
type Invariant = readonly [name: string, violations: (r: Resources) => string[]];

class Resources {
  /** The stack's declared data buckets, the grants the workflow role must have exactly. */
  constructor(readonly all: Registered[], readonly config: StackConfig, readonly stack: string) {}
  get dataBuckets(): StackConfig['dataBuckets'] {
    return this.config.dataBuckets;
  }
  of(type: string): Registered[] {
    return this.all.filter((r) => r.type === type);
  }
  kube(kind: string): Registered[] {
    return this.all.filter((r) => r.type.startsWith('kubernetes:') && r.type.endsWith(`:${kind}`));
  }
  /** Every IAM policy document: inline role policies, trust policies and bucket policies. */
  statements(): { where: string; s: any }[] {
    const docs = [
      ...this.of('aws:iam/rolePolicy:RolePolicy').map((r) => [`RolePolicy ${r.name}`, r.inputs.policy] as const),
      ...this.of('aws:iam/role:Role').map((r) => [`Role ${r.name} trust`, r.inputs.assumeRolePolicy] as const),
      ...this.of('aws:s3/bucketPolicy:BucketPolicy').map((r) => [`BucketPolicy ${r.name}`, r.inputs.policy] as const),
    ];
    return docs.flatMap(([where, doc]) => policy(doc).Statement.map((s: any) => ({ where, s })));
  }
}

const publicRead = (b: Registered) => b.inputs.tags?.[DATA_BUCKET_TAG] === 'public-read';
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const unless = (cond: boolean, message: string) => (cond ? [] : [message]);

const INVARIANTS: Invariant[] = [
  ['S3: every bucket blocks all public access, except object reads of a declared public-read data bucket', (r) => r.of('aws:s3/bucket:Bucket').flatMap((b) => {
    const block = r.of('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').find((p) => p.inputs.bucket === `${b.name}-id`)?.inputs;
    if (!publicRead(b)) return unless(!!block && block.blockPublicAcls && block.blockPublicPolicy && block.ignorePublicAcls && block.restrictPublicBuckets, `${b.name} lacks a full public access block`);
    const doc = r.of('aws:s3/bucketPolicy:BucketPolicy').find((p) => p.inputs.bucket === `${b.name}-id`);
    const arn = `arn:aws:s3:::${b.inputs.bucket}`;
    return [
      ...unless(!!block && block.blockPublicAcls && block.ignorePublicAcls, `${b.name} allows public ACLs`),
      ...(doc ? policy(doc.inputs.policy).Statement : []).filter((s: any) => s.Effect === 'Allow' && (s.Principal === '*' || s.Principal?.AWS === '*'))
        .flatMap((s: any) => unless(list(s.Action).every((a) => a === 's3:GetObject') && list(s.Resource).every((res) => res === `${arn}/*`), `${b.name} grants the public ${s.Action} on ${s.Resource}`)),
    ];
  })],
  ['S3: object ownership enforced (ACLs disabled)', (r) => r.of('aws:s3/bucket:Bucket').flatMap((b) =>
    unless(r.of('aws:s3/bucketOwnershipControls:BucketOwnershipControls').some((o) => o.inputs.bucket === `${b.name}-id` && o.inputs.rule.objectOwnership === 'BucketOwnerEnforced'), `${b.name} allows ACLs`))],
  ['S3: default encryption is SSE-KMS with a customer key', (r) => r.of('aws:s3/bucket:Bucket').flatMap((b) => {
    const sse = r.of('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').find((e) => e.inputs.bucket === `${b.name}-id`);
    const rule = sse?.inputs.rules?.[0]?.applyServerSideEncryptionByDefault;
    // Anonymous readers cannot use a KMS key: a public-read bucket is SSE-S3.
    if (publicRead(b)) return unless(rule?.sseAlgorithm === 'AES256', `${b.name} is not encrypted`);
    return unless(rule?.sseAlgorithm === 'aws:kms' && /^arn:aws:kms:/.test(rule?.kmsMasterKeyId ?? ''), `${b.name} is not SSE-KMS with a customer key`);
  })],
  ['S3: bucket policy denies every request without TLS', (r) => r.of('aws:s3/bucket:Bucket').flatMap((b) => {
    const doc = r.of('aws:s3/bucketPolicy:BucketPolicy').find((p) => p.inputs.bucket === `${b.name}-id`);
    const deny = doc && policy(doc.inputs.policy).Statement.find((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    const arn = `arn:aws:s3:::${b.inputs.bucket ?? `${b.name}-bucket`}`;
    return unless(!!deny && deny.Principal === '*' && deny.Action === 's3:*' && list(deny.Resource).includes(arn) && list(deny.Resource).includes(`${arn}/*`), `${b.name} accepts plain HTTP`);
  })],
  ['S3: data buckets the stack creates are versioned', (r) => r.of('aws:s3/bucket:Bucket').filter((b) => b.inputs.tags?.[DATA_BUCKET_TAG]).flatMap((b) =>
    unless(r.of('aws:s3/bucketVersioning:BucketVersioning').some((v) => v.inputs.bucket === `${b.name}-id` && v.inputs.versioningConfiguration?.status === 'Enabled'), `${b.name} is not versioned`))],
  ['S3: intermediate artifacts expire', (r) => r.of('aws:s3/bucket:Bucket').filter((b) => !b.inputs.tags?.[DATA_BUCKET_TAG]).flatMap((b) => {
    const rules = r.of('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').find((l) => l.inputs.bucket === `${b.name}-id`)?.inputs.rules ?? [];
    return unless(['payloads/', 'artifacts/'].every((p) => rules.some((x: any) => x.filter?.prefix === p && x.status === 'Enabled' && x.expiration?.days > 0)), `${b.name} keeps intermediate data forever`);
  })],
  ['RDS: storage encrypted with a customer KMS key', (r) => r.of('aws:rds/instance:Instance').flatMap((d) =>
    unless(d.inputs.storageEncrypted === true && /^arn:aws:kms:/.test(d.inputs.kmsKeyId ?? ''), `${d.name} storage not KMS-encrypted`))],
  ['RDS: master secret and Performance Insights encrypted with the customer key', (r) => r.of('aws:rds/instance:Instance').flatMap((d) =>
    unless(/^arn:aws:kms:/.test(d.inputs.masterUserSecretKmsKeyId ?? '') && (!d.inputs.performanceInsightsEnabled || /^arn:aws:kms:/.test(d.inputs.performanceInsightsKmsKeyId ?? '')), `${d.name} secret or PI on an AWS-owned key`))],
  ['RDS: not publicly accessible', (r) => r.of('aws:rds/instance:Instance').flatMap((d) => unless(d.inputs.publiclyAccessible === false, `${d.name} is public`))],
  ['RDS: automated backups kept at least 7 days', (r) => r.of('aws:rds/instance:Instance').flatMap((d) => unless(d.inputs.backupRetentionPeriod >= 7, `${d.name} keeps ${d.inputs.backupRetentionPeriod} days`))],
  ['RDS: SSL forced by the attached parameter group', (r) => r.of('aws:rds/instance:Instance').flatMap((d) => {
    const group = r.of('aws:rds/parameterGroup:ParameterGroup').find((g) => d.inputs.parameterGroupName === (g.inputs.name ?? g.name));
    return unless(!!group && group.inputs.parameters.some((p: any) => p.name === 'rds.force_ssl' && p.value === '1'), `${d.name} does not force SSL`);
  })],
  ['RDS: master password managed by Secrets Manager, never an input', (r) => r.of('aws:rds/instance:Instance').flatMap((d) =>
    unless(d.inputs.manageMasterUserPassword === true && d.inputs.password === undefined, `${d.name} has a password in config/state`))],
  ['RDS: security group admits only the cluster on 5432, never 0.0.0.0/0', (r) => r.of('aws:rds/instance:Instance').flatMap((d) => {
    const groups = r.of('aws:ec2/securityGroup:SecurityGroup').filter((g) => list(d.inputs.vpcSecurityGroupIds).includes(`${g.name}-id`));
    return groups.length === 0 ? [`${d.name} has no security group of ours`] : groups.flatMap((g) => (g.inputs.ingress ?? []).flatMap((rule: any) => [
      ...unless(rule.fromPort === 5432 && rule.toPort === 5432, `${g.name} opens ${rule.fromPort}-${rule.toPort}`),
      ...unless(!rule.cidrBlocks?.length && !rule.ipv6CidrBlocks?.length && list(rule.securityGroups).length > 0, `${g.name} admits CIDRs ${rule.cidrBlocks}`),
    ]));
  })],
  ['RDS: database subnets have no route out of the VPC', (r) => {
    const group = r.of('aws:rds/subnetGroup:SubnetGroup');
    return group.flatMap((g) => list<string>(g.inputs.subnetIds).flatMap((subnetId) => {
      const rtId = r.of('aws:ec2/routeTableAssociation:RouteTableAssociation').find((a) => a.inputs.subnetId === subnetId)?.inputs.routeTableId;
      const rt = r.of('aws:ec2/routeTable:RouteTable').find((t) => `${t.name}-id` === rtId);
      return unless(!!rt && (rt.inputs.routes ?? []).length === 0, `${subnetId} routes ${JSON.stringify(rt?.inputs.routes)}`);
    }));
  }],
  ['EKS: Kubernetes Secrets envelope-encrypted with KMS', (r) => r.of('aws:eks/cluster:Cluster').flatMap((c) =>
    unless(list(c.inputs.encryptionConfig?.resources).includes('secrets') && /^arn:aws:kms:/.test(c.inputs.encryptionConfig?.provider?.keyArn ?? ''), `${c.name} secrets not KMS-encrypted`))],
  ['EKS: API endpoint private, or public only to listed CIDRs (never 0.0.0.0/0)', (r) => r.of('aws:eks/cluster:Cluster').flatMap((c) => {
    const v = c.inputs.vpcConfig;
    if (v.endpointPrivateAccess !== true) return [`${c.name} has no private endpoint`];
    if (v.endpointPublicAccess === false) return [];
    return unless(list(v.publicAccessCidrs).length > 0 && !list(v.publicAccessCidrs).includes('0.0.0.0/0'), `${c.name} public endpoint open to ${v.publicAccessCidrs ?? 'the world'}`);
  })],
  ['EKS: access entries only (authenticationMode API), no implicit creator admin', (r) => r.of('aws:eks/cluster:Cluster').flatMap((c) =>
    unless(c.inputs.accessConfig?.authenticationMode === 'API' && c.inputs.accessConfig?.bootstrapClusterCreatorAdminPermissions === false, `${c.name} uses aws-auth or creator admin`))],
  ['EKS: api, audit and authenticator control plane logs enabled', (r) => r.of('aws:eks/cluster:Cluster').flatMap((c) =>
    ['api', 'audit', 'authenticator'].filter((l) => !list(c.inputs.enabledClusterLogTypes).includes(l)).map((l) => `${c.name} lacks ${l} logs`))],
  ['KMS: every customer key rotates', (r) => r.of('aws:kms/key:Key').flatMap((k) => unless(k.inputs.enableKeyRotation === true, `${k.name} does not rotate`))],
  ['Nodes: every node group uses a launch template requiring IMDSv2 with hop limit 1', (r) => r.of('aws:eks/nodeGroup:NodeGroup').flatMap((g) => {
    const lt = r.of('aws:ec2/launchTemplate:LaunchTemplate').find((t) => `${t.name}-id` === g.inputs.launchTemplate?.id);
    const md = lt?.inputs.metadataOptions;
    return unless(md?.httpTokens === 'required' && md?.httpPutResponseHopLimit === 1, `${g.name} allows IMDSv1 or pod access to IMDS`);
  })],
  ['Nodes: root volumes encrypted', (r) => r.of('aws:ec2/launchTemplate:LaunchTemplate').flatMap((t) =>
    (t.inputs.blockDeviceMappings ?? []).flatMap((m: any) => unless(String(m.ebs?.encrypted) === 'true', `${t.name} ${m.deviceName} unencrypted`)))],
  ['Nodes: only in private subnets; public subnets assign no public IPs', (r) => {
    const publicIds = r.of('aws:ec2/subnet:Subnet').filter((s) => s.inputs.tags?.['kubernetes.io/role/elb']).map((s) => `${s.name}-id`);
    return [
      ...r.of('aws:eks/nodeGroup:NodeGroup').flatMap((g) => list<string>(g.inputs.subnetIds).filter((id) => publicIds.includes(id)).map((id) => `${g.name} in public ${id}`)),
      ...r.of('aws:ec2/subnet:Subnet').flatMap((s) => unless(s.inputs.mapPublicIpOnLaunch === false, `${s.name} maps public IPs`)),
    ];
  }],
  ['Persistent volumes: the default StorageClass encrypts', (r) => r.kube('StorageClass').flatMap((s) => unless(s.inputs.parameters?.encrypted === 'true', `${s.inputs.metadata.name} unencrypted`))],
  ['VPC: the default security group allows nothing', (r) => r.of('aws:ec2/defaultSecurityGroup:DefaultSecurityGroup').flatMap((g) =>
    unless(list(g.inputs.ingress).length === 0 && list(g.inputs.egress).length === 0, `${g.name} has rules`))],
  ['IAM: no wildcard action, and no Allow on "*" except listed read-only discovery calls', (r) => r.statements().flatMap(({ where, s }) => {
    if (s.Effect !== 'Allow') return [];
    const actions = list<string>(s.Action);
    const wild = actions.filter((a) => a === '*' || a.endsWith(':*'));
    const onStar = list(s.Resource).includes('*') ? actions.filter((a) => !/:(Describe|Get|List)/.test(a) && !s.Condition) : [];
    return [...wild.map((a) => `${where} allows ${a}`), ...onStar.map((a) => `${where} allows ${a} on *`)];
  })],
  ['IAM: each workload role is assumable by Pod Identity only for its own cluster, namespace and service account', (r) => r.statements().filter(({ where }) => where.endsWith('trust')).flatMap(({ where, s }) => {
    if (s.Principal?.Service !== 'pods.eks.amazonaws.com') return [];
    const tags = s.Condition?.StringEquals ?? {};
    return ['eks-cluster-name', 'kubernetes-namespace', 'kubernetes-service-account']
      .filter((t) => !tags[`aws:RequestTag/${t}`])
      .map((t) => `${where} does not pin ${t}`);
  })],
  ['IAM: workflow pods get exactly the declared grants on the artifact bucket and the declared data buckets (no wildcard)', (r) => {
    const role = r.of('aws:iam/role:Role').find((x) => x.name.endsWith('swoop-swoop-workflow'));
    if (!role) return ['no workflow role'];
    const artifacts = r.of('aws:s3/bucket:Bucket').find((b) => !b.inputs.tags?.[DATA_BUCKET_TAG])!;
    const arn = (bucket: string) => `arn:aws:s3:::${bucket}`;
    const art = arn(artifacts.inputs.bucket ?? `${artifacts.name}-bucket`);
    const keys = new Set(r.of('aws:kms/key:Key').map((k) => `arn:aws:kms:us-west-2:123456789012:key/${k.name}`));
    // What each resource may get: bucket ARNs list, read objects get, write objects put.
    const allowed = new Map<string, string[]>([
      [art, ['s3:ListBucket', 's3:GetBucketLocation']],
      [`${art}/*`, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload']],
      ...r.dataBuckets.read.flatMap((b) => [[arn(b), ['s3:ListBucket', 's3:GetBucketLocation']], [`${arn(b)}/*`, ['s3:GetObject']]] as [string, string[]][]),
      ...r.dataBuckets.write.flatMap((w) => [[arn(w.name), ['s3:ListBucket', 's3:GetBucketLocation']], [`${arn(w.name)}/*`, ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']]] as [string, string[]][]),
    ]);
    const granted = new Map<string, Set<string>>();
    const violations = r.of('aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === `${role.name}-id` || p.inputs.role === role.name).flatMap((p) => policy(p.inputs.policy).Statement.flatMap((s: any) =>
      list<string>(s.Resource).flatMap((res) => list<string>(s.Action).flatMap((a) => {
        granted.set(res, (granted.get(res) ?? new Set()).add(a));
        if (keys.has(res) && a.startsWith('kms:')) return [];
        return unless(!res.replace(/\/\*$/, '').includes('*'), `workflow role: wildcard resource ${res}`).concat(
          unless((allowed.get(res) ?? []).includes(a), `workflow role may ${a} on ${res}`));
      }))));
    // Every declared grant is there too (exactly, not only at most).
    for (const [res, actions] of allowed) for (const a of actions) if (!granted.get(res)?.has(a)) violations.push(`workflow role lacks ${a} on ${res}`);
    return violations;
  }],
  ['IAM: the state service may only read objects under the payload store\'s prefix (and list that prefix, decrypt the bucket key)', (r) => {
    const trust = r.of('aws:iam/role:Role').filter((x) => policy(x.inputs.assumeRolePolicy).Statement.some((s: any) => s.Condition?.StringEquals?.['aws:RequestTag/kubernetes-service-account'] === 'swoop-state'));
    if (trust.length !== 1) return [`${trust.length} roles for swoop-state`];
    const artifacts = r.of('aws:s3/bucket:Bucket').find((b) => !b.inputs.tags?.[DATA_BUCKET_TAG])!;
    const bucket = artifacts.inputs.bucket ?? `${artifacts.name}-bucket`;
    // The prefix the service reads is the one the platform ConfigMap names as the payload store.
    const store = r.kube('ConfigMap').find((c) => c.inputs.metadata?.name === 'swoop-platform')?.inputs.data?.['payload-store'];
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(String(store));
    if (!m || m[1] !== bucket) return [`payload-store ${store} is not in artifact bucket ${bucket}`];
    const prefix = `${m[2]!.replace(/\/+$/, '')}/`;
    const keys = new Set(r.of('aws:kms/key:Key').map((k) => `arn:aws:kms:us-west-2:123456789012:key/${k.name}`));
    const want = [`s3:ListBucket arn:aws:s3:::${bucket} s3:prefix=${prefix}*`, `s3:GetObject arn:aws:s3:::${bucket}/${prefix}*`, 'kms:Decrypt key'];
    const got = r.of('aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === `${trust[0].name}-id`).flatMap((p) => policy(p.inputs.policy).Statement.flatMap((s: any) =>
      list<string>(s.Resource).flatMap((res) => list<string>(s.Action).map((a) => {
        if (s.Effect !== 'Allow') return `${s.Effect} ${a} ${res}`;
        if (keys.has(res)) return `${a} key`;
        const condition = s.Condition ? ` ${Object.entries(s.Condition.StringLike ?? { other: s.Condition }).map(([k, v]) => `${k}=${list(v).join(',')}`).join(' ')}` : '';
        return `${a} ${res}${condition}`;
      }))));
    return [...got.filter((g) => !want.includes(g)).map((g) => `state service role may ${g}`), ...want.filter((w) => !got.includes(w)).map((w) => `state service role lacks ${w}`)];
  }],
  ['SQS: every queue encrypted with a customer KMS key', (r) => r.of('aws:sqs/queue:Queue').flatMap((q) =>
    unless(/^arn:aws:kms:/.test(q.inputs.kmsMasterKeyId ?? ''), `${q.inputs.name} not SSE-KMS`))],
  ['SQS: every queue either dead-letters (redrive) or is a 14-day dead-letter queue', (r) => r.of('aws:sqs/queue:Queue').flatMap((q) => {
    if (!q.inputs.redrivePolicy) return unless(q.inputs.messageRetentionSeconds === 14 * 24 * 3600, `${q.inputs.name} neither redrives nor keeps dead letters 14 days`);
    const redrive = JSON.parse(q.inputs.redrivePolicy);
    const target = r.of('aws:sqs/queue:Queue').find((d) => `arn:aws:sqs:us-west-2:123456789012:${d.inputs.name}` === redrive.deadLetterTargetArn);
    return unless(!!target && Number.isInteger(redrive.maxReceiveCount) && redrive.maxReceiveCount >= 1, `${q.inputs.name} redrives to ${redrive.deadLetterTargetArn}`);
  })],
  ['SQS: queue policies deny plain HTTP and admit senders only as SNS from this stack\'s topic', (r) => r.of('aws:sqs/queuePolicy:QueuePolicy').flatMap((p) => {
    const statements = policy(p.inputs.policy).Statement;
    const topics = r.of('aws:sns/topic:Topic').map((t) => `arn:aws:sns:us-west-2:123456789012:${t.inputs.name}`);
    return [
      ...unless(statements.some((s: any) => s.Effect === 'Deny' && s.Principal === '*' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'), `${p.name} accepts plain HTTP`),
      ...statements.filter((s: any) => s.Effect === 'Allow').flatMap((s: any) => unless(
        s.Principal?.Service === 'sns.amazonaws.com' && list(s.Action).every((a) => a === 'sqs:SendMessage') && topics.includes(s.Condition?.ArnEquals?.['aws:SourceArn']),
        `${p.name} allows ${JSON.stringify(s.Principal)} ${s.Action} without our topic as source`)),
    ];
  })],
  ['SNS: topics encrypted, published only by this account, over TLS', (r) => r.of('aws:sns/topic:Topic').flatMap((t) => {
    const doc = r.of('aws:sns/topicPolicy:TopicPolicy').find((p) => p.name === t.name);
    const statements = doc ? policy(doc.inputs.policy).Statement : [];
    return [
      ...unless(/^arn:aws:kms:/.test(t.inputs.kmsMasterKeyId ?? ''), `${t.inputs.name} unencrypted`),
      ...unless(statements.some((s: any) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'), `${t.inputs.name} accepts plain HTTP`),
      ...statements.filter((s: any) => s.Effect === 'Allow').flatMap((s: any) =>
        unless(s.Principal?.AWS === 'arn:aws:iam::123456789012:root', `${t.inputs.name} publishable by ${JSON.stringify(s.Principal)}`)),
    ];
  })],
  ['IAM: the SQS event source may only receive and delete on the process queue and decrypt its key', (r) => {
    const trust = r.of('aws:iam/role:Role').filter((x) => policy(x.inputs.assumeRolePolicy).Statement.some((s: any) => s.Condition?.StringEquals?.['aws:RequestTag/kubernetes-service-account'] === 'swoop-events-source'));
    if (trust.length !== 1) return [`${trust.length} roles for swoop-events-source`];
    const queue = r.of('aws:sqs/queue:Queue').find((q) => q.inputs.redrivePolicy);
    const queueArn = `arn:aws:sqs:us-west-2:123456789012:${queue?.inputs.name}`;
    const keyArn = queue?.inputs.kmsMasterKeyId;
    return r.of('aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === `${trust[0].name}-id`).flatMap((p) => policy(p.inputs.policy).Statement.flatMap((s: any) => {
      const allowed = list<string>(s.Resource).every((res) => res === queueArn) ? ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes']
        : list<string>(s.Resource).every((res) => res === keyArn) ? ['kms:Decrypt'] : [];
      return list<string>(s.Action).filter((a) => !allowed.includes(a)).map((a) => `event source may ${a} on ${s.Resource}`);
    }));
  }],
  ['IAM: the state service may only send task tokens to the configured queues, and use their keys through SQS only', (r) => {
    const roles = r.of('aws:iam/role:Role').filter((x) => policy(x.inputs.assumeRolePolicy).Statement.some((s: any) => s.Condition?.StringEquals?.['aws:RequestTag/kubernetes-service-account'] === 'swoop-state'));
    const queues = r.config.taskTokenQueues;
    if (roles.length !== 1) return [`${roles.length} roles for swoop-state`];
    const arns = queues.map((q) => { const [, region, account, name] = /^https:\/\/sqs\.([^.]+)\.amazonaws\.com\/(\d+)\/(.+)$/.exec(q.url)!; return `arn:aws:sqs:${region}:${account}:${name}`; });
    const keys = queues.flatMap((q) => (q.kmsKeyArn ? [q.kmsKeyArn] : []));
    const granted = new Set<string>();
    // The role's SQS and KMS-through-SQS grants (its payload reads are the invariant above's).
    const violations = r.of('aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === `${roles[0].name}-id` || p.inputs.role === roles[0].name).flatMap((p) => policy(p.inputs.policy).Statement.flatMap((s: any) =>
      list<string>(s.Resource).flatMap((res) => list<string>(s.Action).flatMap((a) => {
        if (!a.startsWith('sqs:') && !a.startsWith('kms:')) return []; // S3: the payload-read invariant's
        if (a === 'kms:Decrypt' && !keys.includes(res) && !s.Condition) return []; // the bucket key: same
        granted.add(`${a} ${res}`);
        if (arns.includes(res)) return unless(a === 'sqs:SendMessage', `state service may ${a} on ${res}`);
        if (keys.includes(res)) return unless(['kms:GenerateDataKey', 'kms:Decrypt'].includes(a) && list<string>(s.Condition?.StringEquals?.['kms:ViaService']).every((v) => /^sqs\.[a-z0-9-]+\.amazonaws\.com$/.test(v)) && list(s.Condition?.StringEquals?.['kms:ViaService']).length > 0, `state service may ${a} on ${res} outside SQS`);
        return [`state service may ${a} on ${res}, not a task-token queue or its key`];
      }))));
    for (const arn of arns) if (!granted.has(`sqs:SendMessage ${arn}`)) violations.push(`state service cannot send to ${arn}`);
    for (const key of keys) for (const a of ['kms:GenerateDataKey', 'kms:Decrypt']) if (!granted.has(`${a} ${key}`)) violations.push(`state service lacks ${a} on ${key}`);
    return violations;
  }],
  ['Argo: the server requires client or SSO auth, never "server"', (r) => r.of('kubernetes:helm.sh/v3:Release').filter((h) => h.inputs.chart === 'argo-workflows').flatMap((h) => {
    const modes = list<string>(h.inputs.values?.server?.authModes);
    return unless(modes.length > 0 && modes.every((m) => m === 'client' || m === 'sso') && !h.inputs.values?.server?.authMode, `argo server auth modes ${JSON.stringify(modes)}`);
  })],
  ['Network: the workflow namespace denies all ingress and egress by default (VPC CNI network policy agent on)', (r) => [
    ...unless(r.kube('NetworkPolicy').some((p) => p.inputs.metadata.namespace === 'swoop' && JSON.stringify(p.inputs.spec.podSelector) === '{}'
      && ['Ingress', 'Egress'].every((t) => list<string>(p.inputs.spec.policyTypes).includes(t)) && !p.inputs.spec.ingress && !p.inputs.spec.egress), 'no default-deny NetworkPolicy in swoop'),
    ...unless(r.of('aws:eks/addon:Addon').some((a) => a.inputs.addonName === 'vpc-cni' && JSON.parse(a.inputs.configurationValues ?? '{}').enableNetworkPolicy === 'true'), 'the VPC CNI does not enforce NetworkPolicies'),
  ]],
  ['Network: the argo and argo-events namespaces deny all ingress and egress by default too', (r) => ['argo', 'argo-events'].flatMap((ns) =>
    unless(r.kube('NetworkPolicy').some((p) => p.inputs.metadata.namespace === ns && JSON.stringify(p.inputs.spec.podSelector) === '{}'
      && ['Ingress', 'Egress'].every((t) => list<string>(p.inputs.spec.policyTypes).includes(t)) && !p.inputs.spec.ingress && !p.inputs.spec.egress), `no default-deny NetworkPolicy in ${ns}`))],
  ['Argo: the workflow archive connects to PostgreSQL over TLS', (r) => r.of('kubernetes:helm.sh/v3:Release').filter((h) => h.inputs.chart === 'argo-workflows').flatMap((h) => {
    const pg = h.inputs.values?.controller?.persistence?.postgresql;
    return unless(pg?.ssl === true && ['require', 'verify-ca', 'verify-full'].includes(pg?.sslMode), 'archive connection without TLS');
  })],
  ['Kubernetes: database credentials only arrive through ExternalSecrets (never literal Secret data)', (r) => [
    ...r.kube('Secret').filter((s) => JSON.stringify(s.inputs).match(/postgres:\/\/|"password"/)).map((s) => `Secret ${s.inputs.metadata.name} carries DB credentials`),
    ...['swoop-state-db', 'swoop-state-db-owner'].flatMap((name) =>
      unless(r.kube('ExternalSecret').some((e) => e.inputs.spec.target.name === name), `${name} is not an ExternalSecret`)),
  ]],
  ['Kubernetes: no Role grants Secrets beyond get by name; the workflow agent gets exactly the Secrets its HTTP templates send', (r) => {
    const roles = [...r.kube('Role'), ...r.kube('ClusterRole')];
    const agent = roles.filter((x) => x.inputs.metadata.name === 'swoop-workflow-agent-secrets').flatMap((x) => x.inputs.rules.flatMap((rule: any) => list<string>(rule.resourceNames)));
    return [
      // An empty or absent resourceNames matches every Secret of the namespace.
      ...roles.flatMap((x) => (x.inputs.rules ?? []).filter((rule: any) => list(rule.resources).some((res) => res === 'secrets' || res === '*')).flatMap((rule: any) => [
        ...unless(list(rule.resourceNames).length > 0, `${x.inputs.metadata.name} may ${rule.verbs} every Secret`),
        ...list<string>(rule.verbs).filter((v) => v !== 'get').map((v) => `${x.inputs.metadata.name} may ${v} Secrets`),
      ])),
      ...unless(JSON.stringify([...agent].sort()) === JSON.stringify(headerSecrets(r.stack)), `the agent may get ${JSON.stringify(agent)}, its HTTP templates send ${JSON.stringify(headerSecrets(r.stack))}`),
    ];
  }],
  // Workloads infra declares itself (dist/ objects, named namespace/name by ConfigGroup, are the construct library's to check).
  ['Kubernetes: platform containers run without privilege escalation, all capabilities dropped', (r) => [...r.kube('Job'), ...r.kube('Deployment')].filter((w) => !w.name.includes('/')).flatMap((w) =>
    w.inputs.spec.template.spec.containers.flatMap((c: any) =>
      unless(c.securityContext?.allowPrivilegeEscalation === false && list(c.securityContext?.capabilities?.drop).includes('ALL'), `${w.inputs.metadata.name}/${c.name} may escalate`)))],
];

describe('security invariants', () => {
  const runs: Record<string, Resources> = {};
  const resources: Record<string, Registered[]> = {};
  beforeAll(async () => {
    // dev with task-token queues (an SSE-KMS one and a plain one), so the state service has its role
    resources.dev = (await runStack('dev', EXTRA.dev)).resources;
    resources.prod = (await runStack('prod', EXTRA.prod)).resources;
    runs.dev = new Resources(resources.dev, declared('dev'), 'dev');
    runs.prod = new Resources(resources.prod, declared('prod'), 'prod');
  });

  it('has at least 15 invariants', () => expect(INVARIANTS.length).toBeGreaterThanOrEqual(15));

  describe.each(['dev', 'prod'])('%s', (stack) => {
    it.each(INVARIANTS.map(([name, check]) => ({ name, check })))('$name', ({ check }) => {
      expect(check(runs[stack])).toEqual([]);
    });
  });

  // Each invariant must be able to fail: break the property it guards and expect a violation.
  const breakers: Record<string, (all: Registered[]) => void> = {
    'S3: every bucket blocks all public access, except object reads of a declared public-read data bucket': (all) => { find(all, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs.restrictPublicBuckets = false; },
    'S3: bucket policy denies every request without TLS': (all) => { find(all, 'aws:s3/bucketPolicy:BucketPolicy').inputs.policy = JSON.stringify({ Statement: [] }); },
    'RDS: not publicly accessible': (all) => { find(all, 'aws:rds/instance:Instance').inputs.publiclyAccessible = true; },
    'RDS: automated backups kept at least 7 days': (all) => { find(all, 'aws:rds/instance:Instance').inputs.backupRetentionPeriod = 1; },
    'RDS: security group admits only the cluster on 5432, never 0.0.0.0/0': (all) => { find(all, 'aws:ec2/securityGroup:SecurityGroup').inputs.ingress = [{ fromPort: 5432, toPort: 5432, cidrBlocks: ['0.0.0.0/0'] }]; },
    'EKS: API endpoint private, or public only to listed CIDRs (never 0.0.0.0/0)': (all) => { find(all, 'aws:eks/cluster:Cluster').inputs.vpcConfig = { endpointPrivateAccess: true, endpointPublicAccess: true }; },
    'Nodes: every node group uses a launch template requiring IMDSv2 with hop limit 1': (all) => { all.filter((r) => r.type === 'aws:ec2/launchTemplate:LaunchTemplate')[0].inputs.metadataOptions.httpTokens = 'optional'; },
    'KMS: every customer key rotates': (all) => { find(all, 'aws:kms/key:Key').inputs.enableKeyRotation = false; },
    'IAM: no wildcard action, and no Allow on "*" except listed read-only discovery calls': (all) => {
      find(all, 'aws:iam/rolePolicy:RolePolicy').inputs.policy = JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
    },
    'IAM: each workload role is assumable by Pod Identity only for its own cluster, namespace and service account': (all) => {
      const role = all.find((r) => r.type === 'aws:iam/role:Role' && r.inputs.assumeRolePolicy.includes('pods.eks.amazonaws.com'))!;
      role.inputs.assumeRolePolicy = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] });
    },
    'Network: the workflow namespace denies all ingress and egress by default (VPC CNI network policy agent on)': (all) => {
      all.find((r) => r.type.endsWith(':NetworkPolicy') && r.inputs.metadata.namespace === 'swoop' && r.inputs.metadata.name === 'default-deny')!.inputs.spec.policyTypes = ['Ingress'];
    },
    'Argo: the server requires client or SSO auth, never "server"': (all) => { all.find((r) => r.inputs.chart === 'argo-workflows')!.inputs.values.server.authModes = ['server']; },
    'SQS: every queue encrypted with a customer KMS key': (all) => { delete find(all, 'aws:sqs/queue:Queue').inputs.kmsMasterKeyId; },
    'SQS: every queue either dead-letters (redrive) or is a 14-day dead-letter queue': (all) => {
      const queue = all.find((r) => r.type === 'aws:sqs/queue:Queue' && r.inputs.redrivePolicy)!;
      delete queue.inputs.redrivePolicy;
    },
    'SQS: queue policies deny plain HTTP and admit senders only as SNS from this stack\'s topic': (all) => {
      const p = find(all, 'aws:sqs/queuePolicy:QueuePolicy');
      const doc = policy(p.inputs.policy);
      delete doc.Statement.find((s: any) => s.Effect === 'Allow').Condition;
      p.inputs.policy = JSON.stringify(doc);
    },
    'SNS: topics encrypted, published only by this account, over TLS': (all) => {
      const p = find(all, 'aws:sns/topicPolicy:TopicPolicy');
      const doc = policy(p.inputs.policy);
      doc.Statement.find((s: any) => s.Effect === 'Allow').Principal = '*';
      p.inputs.policy = JSON.stringify(doc);
    },
    'IAM: the state service may only read objects under the payload store\'s prefix (and list that prefix, decrypt the bucket key)': (all) => {
      const p = all.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'artifacts-swoop-swoop-state')!;
      const doc = policy(p.inputs.policy);
      doc.Statement.find((s: any) => s.Sid === 'Objects').Resource = doc.Statement.find((s: any) => s.Sid === 'Objects').Resource.replace(/payloads\/\*$/, '*');
      p.inputs.policy = JSON.stringify(doc);
    },
    'IAM: the SQS event source may only receive and delete on the process queue and decrypt its key': (all) => {
      const p = all.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'ingress-event-source')!;
      const doc = policy(p.inputs.policy);
      doc.Statement[0].Action.push('sqs:SendMessage');
      p.inputs.policy = JSON.stringify(doc);
    },
    'S3: every bucket blocks all public access, except object reads of a declared public-read data bucket [public bucket]': (all) => {
      const p = all.find((r) => r.type === 'aws:s3/bucketPolicy:BucketPolicy' && r.name.startsWith('data-'))!;
      const doc = policy(p.inputs.policy);
      doc.Statement.find((s: any) => s.Sid === 'PublicRead').Action = ['s3:GetObject', 's3:PutObject'];
      p.inputs.policy = JSON.stringify(doc);
    },
    'S3: data buckets the stack creates are versioned': (all) => { all.find((r) => r.type === 'aws:s3/bucketVersioning:BucketVersioning' && r.name.startsWith('data-'))!.inputs.versioningConfiguration.status = 'Suspended'; },
    'IAM: workflow pods get exactly the declared grants on the artifact bucket and the declared data buckets (no wildcard)': (all) => {
      const p = all.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'data-workflow-access')!;
      const doc = policy(p.inputs.policy);
      doc.Statement.find((s: any) => s.Sid === 'ReadData').Resource = ['arn:aws:s3:::sentinel-*/*'];
      p.inputs.policy = JSON.stringify(doc);
    },
    'IAM: workflow pods get exactly the declared grants on the artifact bucket and the declared data buckets (no wildcard) [missing grant]': (all) => {
      const p = all.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'data-workflow-access')!;
      const doc = policy(p.inputs.policy);
      doc.Statement = doc.Statement.filter((s: any) => s.Sid !== 'WriteData');
      p.inputs.policy = JSON.stringify(doc);
    },
    'Kubernetes: no Role grants Secrets beyond get by name; the workflow agent gets exactly the Secrets its HTTP templates send': (all) => {
      all.find((r) => r.type === 'kubernetes:rbac.authorization.k8s.io/v1:Role' && r.inputs.metadata.name === 'swoop-workflow-agent-secrets')!.inputs.rules[0].resourceNames = [];
    },
    'Kubernetes: no Role grants Secrets beyond get by name; the workflow agent gets exactly the Secrets its HTTP templates send [extra secret]': (all) => {
      all.find((r) => r.type === 'kubernetes:rbac.authorization.k8s.io/v1:Role' && r.inputs.metadata.name === 'swoop-workflow-agent-secrets')!.inputs.rules[0].resourceNames.push('swoop-state-db');
    },
    'Kubernetes: no Role grants Secrets beyond get by name; the workflow agent gets exactly the Secrets its HTTP templates send [list]': (all) => {
      all.find((r) => r.type === 'kubernetes:rbac.authorization.k8s.io/v1:Role' && r.inputs.metadata.name === 'swoop-workflow-agent-secrets')!.inputs.rules[0].verbs = ['get', 'list'];
    },
    'IAM: the state service may only send task tokens to the configured queues, and use their keys through SQS only': (all) => {
      const p = all.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'state-service')!;
      const doc = policy(p.inputs.policy);
      doc.Statement[0].Resource.push('arn:aws:sqs:us-west-2:123456789012:swoop-dev-process');
      p.inputs.policy = JSON.stringify(doc);
    },
    'IAM: the state service may only send task tokens to the configured queues, and use their keys through SQS only [key beyond sqs]': (all) => {
      const p = all.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'state-service')!;
      const doc = policy(p.inputs.policy);
      delete doc.Statement.find((s: any) => s.Sid === 'EncryptTaskTokens').Condition;
      p.inputs.policy = JSON.stringify(doc);
    },
    'IAM: the state service may only send task tokens to the configured queues, and use their keys through SQS only [missing queue]': (all) => {
      const p = all.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'state-service')!;
      const doc = policy(p.inputs.policy);
      doc.Statement[0].Resource = doc.Statement[0].Resource.slice(0, 1);
      p.inputs.policy = JSON.stringify(doc);
    },
    'Network: the argo and argo-events namespaces deny all ingress and egress by default too': (all) => {
      all.find((r) => r.type.endsWith(':NetworkPolicy') && r.inputs.metadata.namespace === 'argo-events' && r.inputs.metadata.name === 'default-deny')!.inputs.spec.ingress = [{}];
    },
  };
  /** Breakers whose property exists only in prod (the SNS topic, the public-read bucket). Others break a dev copy. */
  const onProd = new Set([
    'S3: every bucket blocks all public access, except object reads of a declared public-read data bucket [public bucket]','SQS: queue policies deny plain HTTP and admit senders only as SNS from this stack\'s topic', 'SNS: topics encrypted, published only by this account, over TLS']);
  it.each(Object.keys(breakers))('detects a violation of "%s"', (name) => {
    const copy: Registered[] = structuredClone(resources[onProd.has(name) ? 'prod' : 'dev']);
    breakers[name](copy);
    // A breaker named `<invariant> [<variant>]` breaks that invariant another way.
    const check = INVARIANTS.find(([n]) => n === name.replace(/ \[[a-z -]+\]$/, ''))![1];
    const stack = onProd.has(name) ? 'prod' : 'dev';
    expect(check(new Resources(copy, declared(stack), stack)).length).toBeGreaterThan(0);
  });
});

/** Config a real stack would hold beside its file (secrets) or that shows a property only some stacks have. */
const EXTRA: Record<string, Record<string, string>> = {
  // The stack's own queues (its workflows send to them), one more with a KMS key, and a FIFO queue.
  dev: { 'swoop-platform:taskTokenQueues': JSON.stringify([
    ...loadEnvironment('dev').taskTokenQueues,
    { url: 'https://sqs.us-west-2.amazonaws.com/123456789012/review-tasks', kmsKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/0b9a3c1e-1111-2222-3333-444455556666' },
    { url: 'https://sqs.us-west-2.amazonaws.com/123456789012/approvals.fifo' },
  ]) },
  prod: { 'swoop-platform:argoSsoClientSecret': 's', 'swoop-platform:dashboardOidcClientSecret': 's' },
};

function declared(stack: string): StackConfig {
  return loadStackConfig({ ...builtStackConfig(stack), ...EXTRA[stack] }, 'swoop-platform', stack);
}

function find(all: Registered[], type: string): Registered {
  const r = all.find((x) => x.type === type);
  if (!r) throw new Error(`no ${type}`);
  return r;
}
