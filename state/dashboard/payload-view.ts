/**
 * A payload's page: what it is, where its chain leads (the runs that started its runs and
 * the runs its runs started, each linking to its payload), its runs with their claim,
 * outcome, output and Argo link, and one timeline of everything recorded about it.
 */
import type { RunView } from '../store';
import { type Html, html } from './html';
import { argoLink, payloadHref, runAnchor, runHref, searchHref, stateBadge, time, urlOrText } from './layout';
import type { LinkedRun, PayloadTimeline } from './queries';

interface Entry {
  readonly at: string;
  /** order among entries at the same instant */
  readonly seq: number;
  readonly kind: string;
  readonly run?: string;
  readonly body: Html;
}

const ACTIVE = ['PENDING', 'QUEUED', 'RUNNING'];

export function payloadBody(t: PayloadTimeline, argoUrl: string | undefined): Html {
  const p = t.payload;
  const latest = p.runs.find((r) => r.claim === 'claimed');
  return html`<h1>Payload <code>${p.payloadId}</code></h1>
<dl class="facts">
  <dt>State</dt><dd>${stateBadge(p.state)}${latest && ACTIVE.includes(latest.state) ? html` <a href="">Refresh</a>` : ''}</dd>
  <dt>Workflow</dt><dd>${p.workflow}</dd>
  <dt>Collections</dt><dd>${p.collections.map((c, i) => html`${i ? ', ' : ''}<a href="${searchHref(c)}">${c}</a>`)}</dd>
  <dt>Items</dt><dd>${p.itemIds.map((c, i) => html`${i ? ', ' : ''}<a href="${searchHref(c)}">${c}</a>`)}</dd>
  <dt>Output</dt><dd>${urlOrText(latest?.output ?? null)}</dd>
  <dt>Input</dt><dd>${urlOrText(p.input)}</dd>
  <dt>First seen</dt><dd>${time(p.createdAt)}</dd>
  <dt>Hash</dt><dd><code>${p.hash}</code></dd>
</dl>
${chain(t)}
<section aria-labelledby="runs-h">
<h2 id="runs-h">Runs</h2>
${p.runs.length === 0 ? html`<p>No run yet.</p>` : html`<div class="wide"><table id="runs">
<thead><tr><th scope="col">Attempt</th><th scope="col">Run</th><th scope="col">State</th><th scope="col">Claim</th><th scope="col">Created</th><th scope="col">Finished</th><th scope="col">Output</th><th scope="col">Error</th>${argoUrl ? html`<th scope="col">Argo</th>` : ''}</tr></thead>
<tbody>${p.runs.map((r) => runRow(r, argoUrl))}</tbody></table></div>`}
</section>
<section aria-labelledby="timeline-h">
<h2 id="timeline-h">Timeline</h2>
<ol class="timeline" id="timeline">${entries(t).map((e) => html`<li data-kind="${e.kind}">${time(e.at)}<span class="kind">${e.kind}</span>${e.run ? html`<a href="#${runAnchor(e.run)}">${e.run}</a>: ` : ''}${e.body}</li>`)}</ol>
</section>`;
}

function runRow(r: RunView, argoUrl: string | undefined): Html {
  return html`<tr id="${runAnchor(r.run)}">
<td class="n">${r.attempt}</td><td><code>${r.run}</code>${r.parentRun ? html`<br><span class="muted">started by <a href="${runHref(r.parentRun)}">${r.parentRun}</a></span>` : ''}</td>
<td>${stateBadge(r.state)}</td>
<td>${r.claim ?? html`<span class="muted">not asked</span>`}${r.claimReason ? html`<br><span class="muted">${r.claimReason}</span>` : ''}</td>
<td>${time(r.createdAt)}</td><td>${time(r.finishedAt)}</td>
<td>${urlOrText(r.output)}</td>
<td>${r.error ? html`<pre class="error">${r.error}</pre>` : ''}</td>
${argoUrl ? html`<td>${argoLink(argoUrl, r.run, r.uid)}</td>` : ''}
</tr>`;
}

const linkedRun = (r: LinkedRun) => html`<code>${r.run}</code> (${r.workflow}, ${stateBadge(r.state)})${r.payloadId ? html`, payload <a href="${payloadHref(r.payloadId)}"><code>${r.payloadId}</code></a>` : ''}`;

function chain(t: PayloadTimeline): Html {
  if (t.parents.length === 0 && t.children.length === 0) return html``;
  return html`<section aria-labelledby="chain-h">
<h2 id="chain-h">Chain</h2>
<ul id="chain">
${t.parents.map((r) => html`<li>Started by ${linkedRun(r)}</li>`)}
${t.children.map((r) => html`<li>Started ${linkedRun(r)} from <code>${r.parentRun}</code></li>`)}
</ul>
</section>`;
}

/** Everything recorded about the payload, oldest first. */
function entries(t: PayloadTimeline): Entry[] {
  const out: Entry[] = [{ at: t.payload.createdAt, seq: 0, kind: 'payload', body: html`first seen` }];
  for (const r of t.payload.runs) {
    out.push({ at: r.createdAt, seq: 1, kind: 'claim', run: r.run,
      body: r.claim ? html`attempt ${r.attempt} ${r.claim}${r.claimReason ? html` (${r.claimReason})` : ''}` : html`attempt ${r.attempt} recorded` });
  }
  const outputs = new Map(t.payload.runs.map((r) => [r.run, r.output]));
  for (const h of t.payload.history) {
    // Times are when the service recorded each thing (reported times are in the runs table).
    const output = h.applied && h.state === 'SUCCESSFUL' ? outputs.get(h.run) : null;
    out.push({ at: h.recordedAt, seq: 2, kind: 'event', run: h.run,
      body: html`${stateBadge(h.state)} from ${h.source}${h.applied ? '' : html` <span class="muted">(late, not applied)</span>`}${h.message ? html` <span class="muted">${h.message}</span>` : ''}${output ? html`, output ${urlOrText(output)}` : ''}` });
  }
  for (const n of t.notifications) {
    out.push({ at: n.createdAt, seq: 4, kind: 'notification', run: n.run,
      body: html`run.finished ${n.state} queued${n.next.length ? html`, next: ${n.next.length} workflow(s) in the chain` : ''}` });
    if (n.deliveredAt) out.push({ at: n.deliveredAt, seq: 5, kind: 'notification', run: n.run, body: html`delivered after ${n.attempts} attempt(s)` });
    else if (n.lastError) out.push({ at: n.createdAt, seq: 5, kind: 'notification', run: n.run, body: html`not delivered yet (${n.attempts} attempt(s)): ${n.lastError}` });
  }
  for (const c of t.callbackTasks) {
    out.push({ at: c.createdAt, seq: 2, kind: 'callback', run: c.run, body: html`step <code>${c.step}</code> waiting for its callback` });
    if (c.answeredAt) {
      out.push({ at: c.answeredAt, seq: 3, kind: 'callback', run: c.run,
        body: html`step <code>${c.step}</code> ${c.state}${c.error ? html`: ${c.error}${c.cause ? html` (${c.cause})` : ''}` : ''}${c.applyError ? html`; resuming Argo failed: ${c.applyError}` : ''}` });
    }
  }
  for (const r of t.children) {
    out.push({ at: r.createdAt, seq: 6, kind: 'chain', run: r.parentRun ?? undefined,
      body: html`started <code>${r.run}</code> (${r.workflow})${r.payloadId ? html` for <a href="${payloadHref(r.payloadId)}">${r.payloadId}</a>` : ''}` });
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
}
