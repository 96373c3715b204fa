/**
 * Who may see the dashboard: whoever the API lets read (the reader or writer token, as
 * `Authorization: Bearer`), a browser that signed in with one of those tokens (a cookie
 * holding a digest of it, never the token), or, when DASHBOARD_SSO_HEADER is set, a request
 * carrying that header that arrived on the SSO listener (sso-listener.ts), the port only the
 * single sign-on proxy can reach (oauth2-proxy's X-Auth-Request-Email, for instance). The
 * same header on the API port is ignored: anyone who reaches that port could send it.
 * On the ALB listener (DASHBOARD_ALB_PORT) the user is the ALB's verified signed header
 * (alb-oidc.ts) and nothing else: no token, cookie or SSO header lets anyone in there.
 * Comparisons are constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

/** Requests that arrived on the SSO listener: the only ones whose SSO header is believed. */
const viaSsoListener = new WeakSet<IncomingMessage>();
export const markSsoRequest = (raw: IncomingMessage): void => {
  viaSsoListener.add(raw);
};

/** Requests that arrived on the ALB listener, and the user its signed header named once verified. */
const viaAlbListener = new WeakSet<IncomingMessage>();
const albUsers = new WeakMap<IncomingMessage, string>();
export const markAlbRequest = (raw: IncomingMessage): void => {
  viaAlbListener.add(raw);
};
export const isAlbRequest = (raw: IncomingMessage): boolean => viaAlbListener.has(raw);
/** Records the user of an ALB request whose header verified (registerDashboard's onRequest hook). */
export const setAlbUser = (raw: IncomingMessage, user: string): void => {
  albUsers.set(raw, user);
};

export const SESSION_COOKIE = 'swoop_dashboard';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * The cookie's value for a token: a digest under its own label, so the cookie opens the
 * dashboard but is no token for the API, and rotating the tokens signs everyone out.
 */
export function sessionValue(token: string): string {
  return sha256(`swoop-dashboard-session\n${token}`).toString('base64url');
}

export interface Viewer {
  /** how the request was let in */
  readonly via: 'token' | 'session' | 'sso' | 'alb';
  /** the SSO header's value or the ALB's signed claim (the user), when signed in through the proxy or the load balancer */
  readonly user?: string;
}

export class DashboardAuth {
  private readonly tokens: Buffer[];
  private readonly sessions: Buffer[];

  constructor(tokens: readonly string[], private readonly ssoHeader?: string) {
    this.tokens = tokens.map(sha256);
    this.sessions = tokens.map((t) => sha256(sessionValue(t)));
  }

  /** Whether `token` is one that may read (for the sign-in form). */
  acceptsToken(token: string): boolean {
    return matches(token, this.tokens);
  }

  viewer(req: FastifyRequest): Viewer | undefined {
    if (viaAlbListener.has(req.raw)) {
      const user = albUsers.get(req.raw);
      return user === undefined ? undefined : { via: 'alb', user };
    }
    if (this.ssoHeader && viaSsoListener.has(req.raw)) {
      const user = req.headers[this.ssoHeader];
      if (typeof user === 'string' && user.trim() !== '') return { via: 'sso', user: user.trim() };
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (bearer && matches(bearer[1]!, this.tokens)) return { via: 'token' };
    const session = cookie(req.headers.cookie, SESSION_COOKIE);
    if (session !== undefined && matches(session, this.sessions)) return { via: 'session' };
    return undefined;
  }
}

/** Compares against every allowed digest in constant time (hashing equalizes lengths). */
function matches(given: string, allowed: readonly Buffer[]): boolean {
  const digest = sha256(given);
  let ok = false;
  for (const a of allowed) ok = timingSafeEqual(digest, a) || ok;
  return ok;
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
