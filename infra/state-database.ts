import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { encryptionKey } from './kms';

/** Login role the state service connects as (its migration Job grants it: state/roles.ts). */
export const STATE_SERVICE_ROLE = 'swoop_state';
/** Login role of the Argo workflow archive, owner of database `argo` (infra/argo.ts creates both). */
export const ARCHIVE_ROLE = 'argo_archive';

/** PostgreSQL major versions accepted (the state service and the Argo archive need 16+). */
export const SUPPORTED_POSTGRES_VERSIONS = ['16', '17'] as const;
export type PostgresVersion = (typeof SUPPORTED_POSTGRES_VERSIONS)[number];

export interface StateDatabaseArgs {
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets without internet route, in at least two AZs. */
  readonly subnetIds: pulumi.Input<string>[];
  /** Security groups allowed to connect on 5432 (the cluster's); nothing else can. */
  readonly clientSecurityGroupIds: pulumi.Input<string>[];
  /** PostgreSQL major version. Default `17`. */
  readonly postgresVersion?: PostgresVersion;
  /** Default `db.t4g.medium`. */
  readonly instanceClass?: string;
  /** Initial storage in GiB (autoscaling up to 5x). Default 20. */
  readonly allocatedStorageGiB?: number;
  /** Days of automated backups, 7 to 35. Default 7. */
  readonly backupRetentionDays?: number;
  /** Standby in a second AZ. Default false. */
  readonly multiAz?: boolean;
  /** Refuse deletion, and take a final snapshot on destroy. Default false. */
  readonly deletionProtection?: boolean;
  /** Name of the database created with the instance. Default `swoop`. */
  readonly databaseName?: string;
  /** KMS key deletion window in days. Default 30. */
  readonly keyDeletionWindowDays?: number;
  readonly tags?: Record<string, string>;
}

/**
 * RDS PostgreSQL for the state service and the Argo workflow archive: private subnets, a
 * security group open only to the cluster, KMS-encrypted storage, Performance Insights and
 * the master secret, SSL forced by parameter group, and a master password generated and
 * rotated by Secrets Manager (`manageMasterUserPassword`), so it never appears in Pulumi
 * config or state. Clients read it from the secret (see SecretsSync). Only the jobs that
 * create schemas and roles use the master user: the state service and the Argo archive
 * each connect as their own role (STATE_SERVICE_ROLE, ARCHIVE_ROLE), with a secret each.
 */
export class StateDatabase extends pulumi.ComponentResource {
  public readonly address: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly databaseName: string;
  /** ARN of the Secrets Manager secret holding `{"username","password"}` of the master user. */
  public readonly secretArn: pulumi.Output<string>;
  /** ARN of the Secrets Manager secret holding `{"username","password"}` of STATE_SERVICE_ROLE. */
  public readonly serviceSecretArn: pulumi.Output<string>;
  /** ARN of the Secrets Manager secret holding `{"username","password"}` of ARCHIVE_ROLE. */
  public readonly archiveSecretArn: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;
  public readonly securityGroupId: pulumi.Output<string>;
  /** The RDS instance identifier (CloudWatch's DBInstanceIdentifier). */
  public readonly identifier: pulumi.Output<string>;

  constructor(name: string, args: StateDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:StateDatabase', name, {}, opts);
    const parent = { parent: this };
    const version = args.postgresVersion ?? '17';
    const backups = args.backupRetentionDays ?? 7;
    if (!Number.isInteger(backups) || backups < 7 || backups > 35) {
      throw new Error(`StateDatabase backupRetentionDays must be a whole number from 7 to 35 (got ${backups})`);
    }
    if (!(SUPPORTED_POSTGRES_VERSIONS as readonly string[]).includes(version)) {
      throw new Error(`StateDatabase postgresVersion must be one of ${SUPPORTED_POSTGRES_VERSIONS.join(', ')} (got ${version})`);
    }
    const protect = args.deletionProtection ?? false;
    this.databaseName = args.databaseName ?? 'swoop';

    const key = encryptionKey(`${name}-db`, `RDS ${name} storage, Performance Insights and master secret`, this, args.keyDeletionWindowDays, args.tags);
    this.keyArn = key.arn;

    const sg = new aws.ec2.SecurityGroup(`${name}-db`, {
      vpcId: args.vpcId,
      description: 'PostgreSQL reachable from the EKS cluster only',
      ingress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, securityGroups: args.clientSecurityGroupIds, description: 'EKS cluster' }],
      egress: [],
      tags: args.tags,
    }, parent);
    this.securityGroupId = sg.id;

    const subnets = new aws.rds.SubnetGroup(`${name}-db`, { subnetIds: args.subnetIds, tags: args.tags }, parent);
    const params = new aws.rds.ParameterGroup(`${name}-db`, {
      family: `postgres${version}`,
      description: 'swoop state database: SSL required, slow statements logged',
      parameters: [
        { name: 'rds.force_ssl', value: '1' },
        { name: 'log_min_duration_statement', value: '1000' },
        { name: 'log_connections', value: '1' },
      ],
      tags: args.tags,
    }, parent);

    const db = new aws.rds.Instance(name, {
      engine: 'postgres',
      engineVersion: version,
      instanceClass: args.instanceClass ?? 'db.t4g.medium',
      allocatedStorage: args.allocatedStorageGiB ?? 20,
      maxAllocatedStorage: (args.allocatedStorageGiB ?? 20) * 5,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: key.arn,
      dbName: this.databaseName,
      username: 'swoop_admin',
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: key.arn,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [sg.id],
      parameterGroupName: params.name,
      publiclyAccessible: false,
      multiAz: args.multiAz ?? false,
      backupRetentionPeriod: backups,
      deletionProtection: protect,
      skipFinalSnapshot: !protect,
      finalSnapshotIdentifier: protect ? `${name}-final` : undefined,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
      iamDatabaseAuthenticationEnabled: true,
      applyImmediately: !protect,
      tags: args.tags,
    }, parent);

    this.address = db.address;
    this.port = db.port;
    this.secretArn = db.masterUserSecrets.apply((s) => {
      const arn = s?.[0]?.secretArn;
      if (!arn) throw new Error(`StateDatabase ${name}: RDS returned no master user secret; manageMasterUserPassword must stay enabled`);
      return arn;
    });
    this.identifier = db.identifier;

    // The roles are created in the database by the jobs that read these secrets (the state
    // migration Job, the archive database Job). Unlike the master password, Pulumi generates
    // these, so they are in the stack state, encrypted as secrets; a new password is
    // `pulumi up --replace` on the RandomPassword, and the next job run sets it.
    const login = (id: string, role: string, what: string) => {
      const password = new random.RandomPassword(`${name}-${id}`, { length: 40, special: false }, parent);
      const secret = new aws.secretsmanager.Secret(`${name}-${id}`, {
        description: `Login of ${what} (role ${role}) on RDS ${name}`,
        kmsKeyId: key.arn,
        tags: args.tags,
      }, parent);
      new aws.secretsmanager.SecretVersion(`${name}-${id}`, {
        secretId: secret.id,
        secretString: pulumi.jsonStringify({ username: role, password: password.result }),
      }, parent);
      return secret.arn;
    };
    this.serviceSecretArn = login('service-role', STATE_SERVICE_ROLE, 'the swoop state service');
    this.archiveSecretArn = login('archive-role', ARCHIVE_ROLE, 'the Argo workflow archive');
    this.registerOutputs({
      address: this.address, port: this.port, secretArn: this.secretArn, serviceSecretArn: this.serviceSecretArn,
      archiveSecretArn: this.archiveSecretArn, securityGroupId: this.securityGroupId,
    });
  }
}
