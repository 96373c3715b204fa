/**
 * Reading a payload by URL: the output payload for `run --output`, and a bare
 * `{"url": "s3://..."}` reference `swoop run` follows. s3:// through the AWS SDK (the usual
 * credential chain; AWS_ENDPOINT_URL_S3 reaches another endpoint), https:// with fetch.
 * Parsed as JSON when it is, else returned as text.
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

/** The text of an s3:// or http(s):// object; undefined when `url` is neither. `what` names it in errors. */
export async function readUrl(url: string, what: string, signal?: AbortSignal): Promise<string | undefined> {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (s3) {
    const client = new S3Client({ forcePathStyle: true });
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: s3[1], Key: decodeURIComponent(s3[2]!) }), { abortSignal: signal });
      return await out.Body!.transformToString();
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      throw new CliError(`${what} ${url}: could not be read (${err.$metadata?.httpStatusCode ?? ''} ${err.name}: ${err.message}); check AWS credentials (AWS_PROFILE) and s3:GetObject on it`.replace('( ', '('));
    } finally {
      client.destroy();
    }
  }
  if (/^https?:\/\//.test(url)) {
    const answer = await send(url, { what, signal });
    if (answer.status !== 200) throw new CliError(`${what} ${url}: answered ${answer.status}`);
    return answer.text;
  }
  return undefined;
}

export async function fetchOutput(url: string, signal?: AbortSignal): Promise<unknown> {
  // Not a URL: the run reported the payload itself.
  return asJson((await readUrl(url, 'output', signal)) ?? url);
}
