import { beforeAll, describe, expect, it } from 'vitest';
import { ResourceRecorder, valueOf } from './support/pulumi-mocks';

const base = { vpcId: 'vpc-1', subnetIds: ['db-a', 'db-b', 'db-c'], clientSecurityGroupIds: ['sg-cluster'] };

describe('StateDatabase (defaults)', () => {
  const rec = new ResourceRecorder();
  let secretArn: string;
  let serviceSecretArn: string;
  let archiveSecretArn: string;
  beforeAll(async () => {
    await rec.install('unit');
    const { StateDatabase } = await import('../../infra/state-database');
    const db = new StateDatabase('state', base);
    secretArn = await valueOf(db.secretArn);
    serviceSecretArn = await valueOf(db.serviceSecretArn);
    archiveSecretArn = await valueOf(db.archiveSecretArn);
    await rec.settle();
  });

  it('runs PostgreSQL 16+ privately, encrypted with its own key, 7 days of backups', () => {
    const db = rec.one('aws:rds/instance:Instance').inputs;
    expect(db).toMatchObject({
      engine: 'postgres', engineVersion: '17', publiclyAccessible: false, storageEncrypted: true,
      kmsKeyId: 'arn:aws:kms:us-west-2:123456789012:key/state-db', backupRetentionPeriod: 7, dbName: 'swoop',
      dbSubnetGroupName: 'state-db', performanceInsightsEnabled: true, performanceInsightsKmsKeyId: 'arn:aws:kms:us-west-2:123456789012:key/state-db',
    });
    expect(Number(db.engineVersion)).toBeGreaterThanOrEqual(16);
    expect(rec.one('aws:rds/subnetGroup:SubnetGroup').inputs.subnetIds).toEqual(['db-a', 'db-b', 'db-c']);
  });

  it('lets Secrets Manager own the master password (no password input) and exposes the secret ARN', () => {
    const db = rec.one('aws:rds/instance:Instance').inputs;
    expect(db.manageMasterUserPassword).toBe(true);
    expect(db.masterUserSecretKmsKeyId).toBe('arn:aws:kms:us-west-2:123456789012:key/state-db');
    expect(db.password).toBeUndefined();
    expect(secretArn).toBe('arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db-state');
  });

  it.each([
    ['state-service-role', 'swoop_state', () => serviceSecretArn],
    ['state-archive-role', 'argo_archive', () => archiveSecretArn],
  ])('keeps the login %s (role %s) in its own secret, encrypted with the database key', (id, role, arn) => {
    const secret = rec.one('aws:secretsmanager/secret:Secret', id);
    expect(secret.inputs.kmsKeyId).toBe('arn:aws:kms:us-west-2:123456789012:key/state-db');
    const version = rec.one('aws:secretsmanager/secretVersion:SecretVersion', id).inputs;
    expect(version.secretId).toBe(`${id}-id`);
    expect(JSON.parse(version.secretString)).toEqual({ username: role, password: `generated-${id}` });
    expect(rec.one('random:index/randomPassword:RandomPassword', id).inputs).toMatchObject({ length: 40, special: false });
    expect(arn()).toBe(`arn:aws:secretsmanager:us-west-2:123456789012:${id}`);
  });

  it('forces SSL through a parameter group of the matching family', () => {
    const group = rec.one('aws:rds/parameterGroup:ParameterGroup').inputs;
    expect(group.family).toBe('postgres17');
    expect(group.parameters).toContainEqual({ name: 'rds.force_ssl', value: '1' });
    expect(rec.one('aws:rds/instance:Instance').inputs.parameterGroupName).toBe('state-db');
  });

  it('admits only the cluster security group on 5432 and opens no egress', () => {
    const sg = rec.one('aws:ec2/securityGroup:SecurityGroup').inputs;
    expect(sg.ingress).toEqual([{ protocol: 'tcp', fromPort: 5432, toPort: 5432, securityGroups: ['sg-cluster'], description: 'EKS cluster' }]);
    expect(sg.egress).toEqual([]);
    expect(rec.one('aws:rds/instance:Instance').inputs.vpcSecurityGroupIds).toEqual(['state-db-id']);
  });

  it('is disposable by default: single AZ, no deletion protection, no final snapshot', () => {
    expect(rec.one('aws:rds/instance:Instance').inputs).toMatchObject({ multiAz: false, deletionProtection: false, skipFinalSnapshot: true });
  });

  it('refuses short backup retention and unsupported versions, naming the field', async () => {
    const { StateDatabase } = await import('../../infra/state-database');
    expect(() => new StateDatabase('a', { ...base, backupRetentionDays: 3 })).toThrow(/backupRetentionDays must be a whole number from 7 to 35 \(got 3\)/);
    expect(() => new StateDatabase('b', { ...base, postgresVersion: '15' as never })).toThrow(/postgresVersion must be one of 16, 17 \(got 15\)/);
  });
});

describe('StateDatabase (production settings)', () => {
  it('is multi-AZ, deletion protected and keeps a final snapshot', async () => {
    const rec = new ResourceRecorder();
    await rec.install('unit-prod');
    const { StateDatabase } = await import('../../infra/state-database');
    const db = new StateDatabase('state', { ...base, postgresVersion: '16', multiAz: true, deletionProtection: true, backupRetentionDays: 14 });
    await valueOf(db.address);
    await rec.settle();
    expect(rec.one('aws:rds/instance:Instance').inputs).toMatchObject({
      engineVersion: '16', multiAz: true, deletionProtection: true, skipFinalSnapshot: false, finalSnapshotIdentifier: 'state-final', backupRetentionPeriod: 14, applyImmediately: false,
    });
    expect(rec.one('aws:rds/parameterGroup:ParameterGroup').inputs.family).toBe('postgres16');
  });
});
