import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ResourceRecorder, policy, type Registered } from './support/pulumi-mocks';
import { builtStackConfig, runStack, TEST_WORKLOAD_SECRETS, type StackRun } from './support/stack-run';
import { loadStackConfig } from '../../stacks/config';

const DIST = join(__dirname, '..', '..', 'dist');
const P = 'swoop-platform';

describe('DataBuckets', () => {
  const rec = new ResourceRecorder();
  beforeAll(async () => {
    await rec.install('unit-data');
    const { DataBuckets } = await import('../../infra/data-buckets');
    new DataBuckets('data', {
      read: ['sentinel-cogs'],
      write: [{ name: 'exists-elsewhere' }, { name: 'private-out', create: true }, { name: 'public-out', create: true, publicRead: true }],
      workflowRoleName: 'workflow-role',
    });
    await rec.settle();
  });
  const of = (type: string, bucket: string) => rec.ofType(type).find((r) => r.name === `data-${bucket}`)!.inputs;

  it('creates only the write buckets marked create, versioned and owner-enforced', () => {
    expect(rec.ofType('aws:s3/bucket:Bucket').map((b) => b.inputs.bucket).sort()).toEqual(['private-out', 'public-out']);
    for (const b of ['private-out', 'public-out']) {
      expect(of('aws:s3/bucketVersioning:BucketVersioning', b).versioningConfiguration).toEqual({ status: 'Enabled' });
      expect(of('aws:s3/bucketOwnershipControls:BucketOwnershipControls', b).rule).toEqual({ objectOwnership: 'BucketOwnerEnforced' });
    }
  });

  it('blocks all public access on a private bucket and encrypts it with its own key', () => {
    expect(of('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'private-out')).toMatchObject({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
    expect(of('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'private-out').rules[0].applyServerSideEncryptionByDefault)
      .toEqual({ sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'arn:aws:kms:us-west-2:123456789012:key/data-private-out' });
    expect(policy(of('aws:s3/bucketPolicy:BucketPolicy', 'private-out').policy).Statement.map((s: any) => s.Effect)).toEqual(['Deny']);
  });

  it('opens a publicRead bucket to object reads only: policy GetObject, ACLs still blocked, SSE-S3', () => {
    expect(of('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'public-out')).toMatchObject({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false });
    const allow = policy(of('aws:s3/bucketPolicy:BucketPolicy', 'public-out').policy).Statement.filter((s: any) => s.Effect === 'Allow');
    expect(allow).toEqual([{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public-out/*' }]);
    expect(of('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'public-out').rules[0].applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: 'AES256' });
  });

  it('grants the workflow role exactly the declared access on exactly those buckets', () => {
    const p = rec.one('aws:iam/rolePolicy:RolePolicy').inputs;
    expect(p.role).toBe('workflow-role');
    expect(policy(p.policy).Statement).toEqual([
      { Sid: 'DataBuckets', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: ['arn:aws:s3:::sentinel-cogs', 'arn:aws:s3:::exists-elsewhere', 'arn:aws:s3:::private-out', 'arn:aws:s3:::public-out'] },
      { Sid: 'ReadData', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::sentinel-cogs/*'] },
      { Sid: 'WriteData', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: ['arn:aws:s3:::exists-elsewhere/*', 'arn:aws:s3:::private-out/*', 'arn:aws:s3:::public-out/*'] },
      { Sid: 'DataKeys', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: ['arn:aws:kms:us-west-2:123456789012:key/data-private-out'] },
    ]);
  });
});

describe('dataBuckets config', () => {
  const minimal = { ...builtStackConfig('dev'), [`${P}:dataBuckets`]: '{}' };
  const errorOf = (value: unknown): string => {
    try {
      loadStackConfig({ ...minimal, [`${P}:dataBuckets`]: JSON.stringify(value) }, P, 't');
    } catch (e) {
      return (e as Error).message.split('\n').slice(1).join('\n');
    }
    throw new Error('expected a refusal');
  };

  it('reads read and write lists with their defaults', () => {
    const cfg = loadStackConfig({ ...minimal, [`${P}:dataBuckets`]: JSON.stringify({ read: ['a-src'], write: [{ name: 'b-out' }, { name: 'c-pub', create: true, publicRead: true }] }) }, P, 't');
    expect(cfg.dataBuckets).toEqual({ read: ['a-src'], write: [{ name: 'b-out', create: false, publicRead: false }, { name: 'c-pub', create: true, publicRead: true }] });
    expect(loadStackConfig(minimal, P, 't').dataBuckets).toEqual({ read: [], write: [] });
  });

  it.each([
    [{ read: ['Bad_Name'] }, `${P}:dataBuckets.read[0] must be a valid S3 bucket name (got "Bad_Name")`],
    [{ write: [{ name: 'x-out', publicRead: true }] }, `${P}:dataBuckets.write[0].publicRead needs create: true`],
    [{ read: ['same-b'], write: [{ name: 'same-b' }] }, `${P}:dataBuckets.write[0].name "same-b" is also in read`],
    [{ write: [{ name: 'x-out', public: true }] }, `${P}:dataBuckets.write[0].public is not a known field; known: name, create, publicRead`],
    [{ readonly: [] }, `${P}:dataBuckets.readonly is not a known field; known: read, write`],
  ])('refuses %j in one line', (value, message) => {
    const error = errorOf(value);
    expect(error).toContain(message);
    expect(error.split('\n')).toHaveLength(1);
  });
});

/**
 * Every Secret the manifests in dist/ reference, found by this test's own walk (any
 * `name` under a field whose name says secret, and volume `secretName`s): not the
 * program's scanner, so a reference the program overlooks still shows here.
 */
function distSecretRefs(): { name: string; key?: string }[] {
  const refs: { name: string; key?: string }[] = [];
  const walk = (node: any, field = ''): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, field));
    if (!node || typeof node !== 'object') return;
    if (/secret/i.test(field) && typeof node.name === 'string') refs.push({ name: node.name, key: node.key });
    for (const [k, v] of Object.entries(node)) {
      if (k === 'secretName' && typeof v === 'string') refs.push({ name: v });
      else walk(v, k);
    }
  };
  for (const file of (readdirSync(DIST, { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(DIST, file), 'utf8'))) walk(doc.toJSON());
  }
  return refs;
}

/** Secret name -> keys it will have, from the Secrets and ExternalSecrets a stack run declares (not dist/'s own). */
function providedSecrets(run: StackRun): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (name: string, keys: string[]) => out.set(name, new Set([...(out.get(name) ?? []), ...keys]));
  for (const r of run.resources.filter((x: Registered) => x.type.startsWith('kubernetes:') && !x.name.includes('/'))) {
    const kind = r.type.split(':').pop();
    // The control plane fills a service-account-token Secret's token, ca.crt and namespace.
    if (kind === 'Secret' && r.inputs.type === 'kubernetes.io/service-account-token') add(r.inputs.metadata.name, ['token']);
    else if (kind === 'Secret') add(r.inputs.metadata.name, Object.keys({ ...r.inputs.data, ...r.inputs.stringData }));
    if (kind === 'ExternalSecret') add(r.inputs.spec.target.name, Object.keys(r.inputs.spec.target.template?.data ?? {}));
  }
  return out;
}

describe('Secrets the synthesized manifests reference', () => {
  let dev: StackRun;
  const refs = distSecretRefs();
  const declaredInputs = Object.keys(JSON.parse(TEST_WORKLOAD_SECRETS[`${P}:workloadSecrets`]));
  beforeAll(async () => {
    dev = await runStack('dev');
  });

  it('finds references in dist/, including ones only a stack input provides', () => {
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => declaredInputs.includes(r.name)).length).toBeGreaterThan(0);
  });

  it('are each created by the stack, with every referenced key', () => {
    const provided = providedSecrets(dev);
    const missing = refs.filter((r) => !provided.get(r.name) || (r.key !== undefined && !provided.get(r.name)!.has(r.key)));
    expect(missing).toEqual([]);
  });

  it('a Secret the stack creates only from workloadSecrets stops the program, named, when the input is absent', async () => {
    const fromInputs = [...new Set(refs.map((r) => r.name))].filter((name) => dev.resources.some((r) => r.name === `platform-secret-${name}`));
    expect(fromInputs.sort()).toEqual(declaredInputs.sort());
    for (const name of fromInputs) {
      const others = Object.fromEntries(Object.entries(JSON.parse(TEST_WORKLOAD_SECRETS[`${P}:workloadSecrets`])).filter(([n]) => n !== name));
      const recorder = new ResourceRecorder();
      await expect(runStack('dev', { [`${P}:workloadSecrets`]: JSON.stringify(others) }, recorder)).rejects.toThrow(
        new RegExp(`${P}:workloadSecrets\\.${name} is required: Secret ${name} \\(keys [^)]+\\) is referenced by [^;]+; set it with pulumi config set --secret --path '`),
      );
      await recorder.settle();
      expect(recorder.resources).toEqual([]);
    }
  });

  it('refuses a workload Secret named like one the stack creates', async () => {
    const extra = { [`${P}:workloadSecrets`]: JSON.stringify({ ...JSON.parse(TEST_WORKLOAD_SECRETS[`${P}:workloadSecrets`]), 'swoop-state-tokens': { writer: 'x' } }) };
    await expect(runStack('dev', extra)).rejects.toThrow(`${P}:workloadSecrets.swoop-state-tokens names a Secret the stack creates itself`);
  });

  it('PLATFORM_SECRETS is what Platform declares', async () => {
    const { PLATFORM_SECRETS } = await import('../../infra/platform');
    const provided = providedSecrets(dev);
    for (const [name, keys] of Object.entries(PLATFORM_SECRETS)) expect([...(provided.get(name) ?? [])].sort(), name).toEqual([...keys].sort());
  });
});
