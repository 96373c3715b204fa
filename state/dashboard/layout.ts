/**
 * The frame every dashboard page shares: a skip link, the header with navigation and the
 * search box, and the page's landmarks, so keyboard and screen-reader users move the same
 * way on every page.
 */
import type { Viewer } from './auth';
import { type Html, html } from './html';
import type { RunState } from '../states';

export const BASE = '/dashboard';

export const payloadHref = (id: string) => `${BASE}/payload?id=${encodeURIComponent(id)}`;
export const runHref = (run: string) => `${BASE}/run?name=${encodeURIComponent(run)}`;
export const searchHref = (q: string) => `${BASE}/search?q=${encodeURIComponent(q)}`;
/** The anchor of a run's row on its payload's page. */
export const runAnchor = (run: string) => `run-${run.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

export function page(title: string, viewer: Viewer | undefined, body: Html, q = ''): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · SWOOP state</title>
<link rel="stylesheet" href="${BASE}/style.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="${BASE}">SWOOP state</a>
  ${viewer ? html`<nav aria-label="Dashboard"><ul><li><a href="${BASE}">Overview</a></li><li><a href="${BASE}/search">Search</a></li></ul></nav>
  <form role="search" method="get" action="${BASE}/search">
    <label for="top-q" class="skip">Search payload id, run, item id or collection</label>
    <input id="top-q" type="search" name="q" value="${q}" placeholder="payload id, run, item id, collection">
    <button type="submit">Search</button>
  </form>
  ${viewer.via === 'session' ? html`<form method="post" action="${BASE}/logout"><button type="submit">Sign out</button></form>` : ''}
  ${viewer.user ? html`<span class="who">Signed in as ${viewer.user}</span>` : ''}` : ''}
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>
`;
}

export const stateBadge = (state: RunState | null) => html`<span class="state ${state ?? 'none'}">${state ?? 'unclaimed'}</span>`;

/** `2026-12-06T20:15:03.123456Z` -> `2026-12-06 20:15:03Z`, in a <time> element. */
export function time(ts: string | null): Html {
  if (!ts) return html`<span class="muted">-</span>`;
  return html`<time datetime="${ts}">${ts.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

/** The run's page in the Argo UI, from DASHBOARD_ARGO_WORKFLOW_URL ({name}, {uid}); none when unset. */
export function argoLink(template: string | undefined, run: string, uid: string | null): Html {
  if (!template) return html``;
  const href = template.replace(/\{name\}/g, encodeURIComponent(run)).replace(/\{uid\}/g, encodeURIComponent(uid ?? ''));
  return html`<a href="${href}" rel="noreferrer">Argo<span class="skip"> workflow ${run}</span></a>`;
}

/** A URL as a link when a browser can open it (http/https), else as text (s3://...). */
export function urlOrText(url: string | null): Html {
  if (!url) return html`<span class="muted">-</span>`;
  // An inline payload (a claim's input) can be large: the page shows its start.
  const shown = url.length > MAX_SHOWN ? `${url.slice(0, MAX_SHOWN)}…` : url;
  return /^https?:\/\/\S+$/i.test(url) ? html`<a href="${url}" rel="noreferrer"><code>${shown}</code></a>` : html`<code>${shown}</code>`;
}

const MAX_SHOWN = 600;
