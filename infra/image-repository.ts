import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface ImageRepositoryArgs {
  /** Repository name, e.g. `<clusterName>/swoop-state` (docs/contracts.md). */
  readonly repositoryName: string;
  /** Untagged images are expired after this many days. Default 14. */
  readonly untaggedExpiryDays?: number;
  /** Delete the images with the repository on `pulumi destroy` (dev only). Default false. */
  readonly forceDelete?: boolean;
  readonly tags?: Record<string, string>;
}

/**
 * An ECR repository for one of the platform's own images: scanned on push, tags immutable
 * (a tag always means the same digest, and the stack deploys by digest anyway), encrypted,
 * untagged layers expired. Nodes pull through their AmazonEC2ContainerRegistryReadOnly policy.
 */
export class ImageRepository extends pulumi.ComponentResource {
  public readonly repositoryUrl: pulumi.Output<string>;
  public readonly repositoryArn: pulumi.Output<string>;

  constructor(name: string, args: ImageRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super('swoop:infra:ImageRepository', name, {}, opts);
    const parent = { parent: this };
    const repo = new aws.ecr.Repository(name, {
      name: args.repositoryName,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: 'KMS' }],
      forceDelete: args.forceDelete ?? false,
      tags: args.tags,
    }, parent);
    new aws.ecr.LifecyclePolicy(name, {
      repository: repo.name,
      policy: JSON.stringify({
        rules: [{
          rulePriority: 1,
          description: 'expire untagged images',
          selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: args.untaggedExpiryDays ?? 14 },
          action: { type: 'expire' },
        }],
      }),
    }, parent);
    this.repositoryUrl = repo.repositoryUrl;
    this.repositoryArn = repo.arn;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl });
  }
}
