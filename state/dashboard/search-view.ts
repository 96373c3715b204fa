/** Search results: payloads matched by id or hash, run name, item id or collection. */
import { type Html, html } from './html';
import { BASE, payloadHref, stateBadge, time } from './layout';
import type { SearchHit } from './queries';

const MATCH_LABEL: Record<SearchHit['match'], string> = { payload: 'payload id', run: 'run', item: 'item id', collection: 'collection' };

export function searchBody(q: string, hits: SearchHit[]): Html {
  return html`<h1>Search</h1>
<form class="filters" role="search" method="get" action="${BASE}/search">
  <div class="field"><label for="q">Payload id or hash, run name, item id or collection</label>
    <input id="q" type="search" name="q" value="${q}" required></div>
  <button type="submit">Search</button>
</form>
${q === '' ? '' : hits.length === 0
    ? html`<p id="no-results">No payload id, run, item id or collection is <code>${q}</code>.</p>`
    : html`<h2>${hits.length} result${hits.length === 1 ? '' : 's'} for <code>${q}</code></h2>
<div class="wide"><table id="results">
<thead><tr><th scope="col">Matched</th><th scope="col">Payload</th><th scope="col">Workflow</th><th scope="col">State</th><th scope="col">First seen</th></tr></thead>
<tbody>${hits.map((h) => html`<tr><td>${MATCH_LABEL[h.match]}</td><td><a href="${payloadHref(h.payloadId)}"><code>${h.payloadId}</code></a></td><td>${h.workflow}</td><td>${stateBadge(h.state)}</td><td>${time(h.createdAt)}</td></tr>`)}</tbody>
</table></div>`}`;
}

export function loginBody(next: string, failed: boolean): Html {
  return html`<h1>Sign in</h1>
${failed ? html`<p class="notice" role="alert">That token is not the state service's reader or writer token.</p>` : ''}
<form class="filters" method="post" action="${BASE}/login">
  <input type="hidden" name="next" value="${next}">
  <div class="field"><label for="token">Reader token (Secret swoop-state-tokens, key reader)</label>
    <input id="token" type="password" name="token" autocomplete="current-password" required></div>
  <button type="submit">Sign in</button>
</form>`;
}

export function errorBody(status: number, message: string): Html {
  return html`<h1>${status === 404 ? 'Not found' : status === 503 ? 'Unavailable' : 'Cannot show this'}</h1>
<p class="notice" role="alert">${message}</p>
<p><a href="${BASE}">Back to the overview</a></p>`;
}
