/**
 * The user an AWS Application Load Balancer with OIDC authentication signed in: its
 * `x-amzn-oidc-data` header, a JWT the ALB signs with ES256 (ECDSA P-256, SHA-256). Its
 * header names the key (`kid`), the load balancer that signed it (`signer`, an ARN) and when
 * it expires (`exp`, seconds); its payload holds the IdP's user claims. The public key is a
 * PEM at `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>` (AWS, "Authenticate
 * users using an Application Load Balancer", user claims encoding and signature verification).
 *
 * AWS documents that the token's parts are base64url *with padding* (JWS forbids it), so
 * some JWT libraries refuse it. `jose` verifies it as sent: it signs over the parts exactly as
 * received and its base64url decoder accepts the padding (test/state/dashboard-alb.test.ts
 * verifies padded tokens, so a jose that stopped accepting them fails there). Removing the
 * padding would break the signature, which covers the padded text.
 *
 * Nothing from the header is believed before the signature is verified with a key fetched
 * from AWS by its kid and the signer is the expected load balancer; a key that cannot be
 * fetched is a 503, never a reason to let the request in.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors } from 'jose';

/** What the service needs to believe the header (DASHBOARD_ALB_OIDC, DASHBOARD_ALB_KEY_URL). */
export interface AlbOidcOptions {
  /** The ALB's region: its public keys are served from that region's endpoint. */
  readonly region: string;
  /**
   * The load balancer that must have signed: its full ARN, or the ARN up to and including
   * `loadbalancer/app/<name>/` when the name is fixed but AWS assigns the id at creation
   * (then any id of that name in that account and region; ALB names are unique there).
   */
  readonly signer: string;
  /** The payload claim that names the user, e.g. `email`. */
  readonly claim: string;
  /** Where the keys are (`<keyUrl><kid>`); default the region's AWS endpoint. Tests only. */
  readonly keyUrl?: string;
}

export const ALB_OIDC_HEADER = 'x-amzn-oidc-data';

export const albKeyUrl = (region: string): string => `https://public-keys.auth.elb.${region}.amazonaws.com/`;

/** A user the ALB signed in, or why the request is refused (401: not believed; 503: could not check). */
export type AlbOidcResult = { readonly ok: true; readonly user: string } | { readonly ok: false; readonly status: 401 | 503; readonly reason: string };

/** AWS key ids are UUIDs; anything else is not put into a URL. */
const KID = /^[A-Za-z0-9-]{1,128}$/;
const KEYS_KEPT = 32;
/** An unknown kid is not asked again for this long (the header is anyone's to send on this port). */
const UNKNOWN_KID_MS = 60_000;
const FETCH_TIMEOUT_MS = 5_000;

const refuse = (reason: string): AlbOidcResult => ({ ok: false, status: 401, reason });

class KeyUnavailable extends Error {}
class UnknownKey extends Error {}

export class AlbOidcVerifier {
  private readonly keyUrl: string;
  /** kid -> key (an ALB key never changes under its kid), newest last. */
  private readonly keys = new Map<string, Promise<KeyObject>>();
  private readonly unknown = new Map<string, number>();

  constructor(private readonly options: AlbOidcOptions, private readonly now: () => number = Date.now) {
    this.keyUrl = options.keyUrl ?? albKeyUrl(options.region);
  }

  async verify(header: string | string[] | undefined): Promise<AlbOidcResult> {
    if (typeof header !== 'string' || header.trim() === '') return refuse(`no ${ALB_OIDC_HEADER} header: open the dashboard through its load balancer, which signs users in`);
    const token = header.trim();
    let protectedHeader: Record<string, unknown>;
    try {
      protectedHeader = decodeProtectedHeader(token) as Record<string, unknown>;
    } catch {
      return refuse(`${ALB_OIDC_HEADER} is not a JWT`);
    }
    const { alg, kid, signer, exp } = protectedHeader;
    if (alg !== 'ES256') return refuse(`${ALB_OIDC_HEADER} is not signed ES256 (alg ${JSON.stringify(alg)})`);
    if (typeof kid !== 'string' || !KID.test(kid)) return refuse(`${ALB_OIDC_HEADER} names no usable key id`);
    if (typeof signer !== 'string' || !this.signerMatches(signer)) return refuse(`${ALB_OIDC_HEADER} was signed by ${JSON.stringify(signer)}, not the dashboard's load balancer`);
    if (typeof exp !== 'number' || !(exp * 1000 > this.now())) return refuse(`${ALB_OIDC_HEADER} has expired; reload the page to sign in again`);
    let key: KeyObject;
    try {
      key = await this.key(kid);
    } catch (e) {
      if (e instanceof UnknownKey) return refuse(`${ALB_OIDC_HEADER} names a key (${kid}) that AWS does not publish for ${this.options.region}`);
      return { ok: false, status: 503, reason: `could not fetch the load balancer's public key to check the sign-in (${(e as Error).message}); try again shortly` };
    }
    let payload: Record<string, unknown>;
    try {
      const verified = await compactVerify(token, key, { algorithms: ['ES256'] });
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof errors.JWSSignatureVerificationFailed) return refuse(`${ALB_OIDC_HEADER} has a signature that does not verify`);
      return refuse(`${ALB_OIDC_HEADER} is not a valid signed token`);
    }
    if (payload.exp !== undefined && !(typeof payload.exp === 'number' && payload.exp * 1000 > this.now())) return refuse(`${ALB_OIDC_HEADER} has expired; reload the page to sign in again`);
    const user = payload[this.options.claim];
    if (typeof user !== 'string' || user.trim() === '') return refuse(`the signed-in user's claims have no "${this.options.claim}"; ask for that claim in the load balancer's OIDC scope`);
    return { ok: true, user: user.trim() };
  }

  private signerMatches(signer: string): boolean {
    const expected = this.options.signer;
    if (!expected.endsWith('/')) return signer === expected;
    // the name is fixed, the id (16 hex digits) assigned by AWS
    return signer.startsWith(expected) && /^[0-9a-f]{16}$/.test(signer.slice(expected.length));
  }

  private key(kid: string): Promise<KeyObject> {
    const cached = this.keys.get(kid);
    if (cached) return cached;
    const refusedAt = this.unknown.get(kid);
    if (refusedAt !== undefined && this.now() - refusedAt < UNKNOWN_KID_MS) return Promise.reject(new UnknownKey());
    const fetched = this.fetchKey(kid);
    this.keys.set(kid, fetched);
    if (this.keys.size > KEYS_KEPT) this.keys.delete(this.keys.keys().next().value!);
    // Failures are not kept as keys: the next request asks again.
    fetched.catch((e) => {
      if (this.keys.get(kid) === fetched) this.keys.delete(kid);
      if (e instanceof UnknownKey) {
        this.unknown.set(kid, this.now());
        if (this.unknown.size > KEYS_KEPT) this.unknown.delete(this.unknown.keys().next().value!);
      }
    });
    return fetched;
  }

  private async fetchKey(kid: string): Promise<KeyObject> {
    let res: Response;
    try {
      res = await fetch(`${this.keyUrl}${kid}`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    } catch (e) {
      throw new KeyUnavailable(`${new URL(this.keyUrl).host} unreachable: ${(e as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    // The endpoint (S3 behind it) answers 403 or 404 for a key it does not have.
    if (res.status === 403 || res.status === 404) throw new UnknownKey();
    if (res.status !== 200) throw new KeyUnavailable(`${new URL(this.keyUrl).host} answered ${res.status}`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: text, format: 'pem' });
    } catch {
      throw new KeyUnavailable(`${new URL(this.keyUrl).host} answered something that is not a PEM public key`);
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new KeyUnavailable(`the key ${kid} is not a P-256 key`);
    return key;
  }
}
