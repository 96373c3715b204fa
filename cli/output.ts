/**
 * Reading an output payload for `run --output`: an s3:// URL through the AWS SDK (the usual
 * credential chain; AWS_ENDPOINT_URL_S3 reaches another endpoint), an https:// URL with fetch.
 * Parsed as JSON when it is, else printed as text.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CliError } from './io';
import { send } from './http';

function asJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function fetchOutput(url: string, signal?: AbortSignal): Promise<unknown> {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (s3) {
    const client = new S3Client({ forcePathStyle: true });
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: s3[1], Key: decodeURIComponent(s3[2]!) }), { abortSignal: signal });
      return asJson(await out.Body!.transformToString());
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      throw new CliError(`output ${url}: could not be read (${err.$metadata?.httpStatusCode ?? ''} ${err.name}: ${err.message}); check AWS credentials (AWS_PROFILE) and s3:GetObject on it`.replace('( ', '('));
    } finally {
      client.destroy();
    }
  }
  if (/^https?:\/\//.test(url)) {
    const answer = await send(url, { what: 'output payload', signal });
    if (answer.status !== 200) throw new CliError(`output ${url}: answered ${answer.status}`);
    return asJson(answer.text);
  }
  // Not a URL: the run reported the payload itself.
  return asJson(url);
}
