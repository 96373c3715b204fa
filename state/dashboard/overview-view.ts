/**
 * The overview: runs by workflow and state over the chosen window, the same runs per hour
 * (a chart, and the table it is drawn from for screen readers), and the most recent
 * failures with their error and their Argo link.
 */
import { RUN_STATES, type RunState } from '../states';
import { type Html, html } from './html';
import { argoLink, BASE, payloadHref, runAnchor, runHref, stateBadge, time } from './layout';
import type { RunView } from '../store';
import type { OverviewCell } from './queries';

/** Windows offered, in hours; each ends with the current hour. */
export const WINDOWS: Record<string, { hours: number; label: string }> = {
  '1h': { hours: 1, label: 'last hour' },
  '6h': { hours: 6, label: 'last 6 hours' },
  '24h': { hours: 24, label: 'last 24 hours' },
  '7d': { hours: 168, label: 'last 7 days' },
};
export const DEFAULT_WINDOW = '24h';

/** The chart's four series: states grouped as an operator reads them. */
const SERIES = ['SUCCESSFUL', 'FAILED', 'ACTIVE', 'CANCELED'] as const;
type Series = (typeof SERIES)[number];
const SERIES_LABEL: Record<Series, string> = { SUCCESSFUL: 'successful', FAILED: 'failed, timed out or invalid', ACTIVE: 'pending, queued or running', CANCELED: 'canceled' };
const seriesOf = (s: RunState): Series =>
  s === 'SUCCESSFUL' ? 'SUCCESSFUL' : s === 'CANCELED' ? 'CANCELED' : ['FAILED', 'TIMED_OUT', 'INVALID'].includes(s) ? 'FAILED' : 'ACTIVE';

export interface OverviewModel {
  readonly window: string;
  readonly workflow?: string;
  readonly workflows: string[];
  /** the window's first hour (UTC, start of the hour) */
  readonly since: Date;
  readonly hours: number;
  readonly cells: OverviewCell[];
  readonly failures: RunView[];
  readonly argoUrl?: string;
}

export function overviewBody(m: OverviewModel): Html {
  const label = WINDOWS[m.window]!.label;
  return html`<h1>Runs${m.workflow ? html` of <code>${m.workflow}</code>` : ''}, ${label}</h1>
<form class="filters" method="get" action="${BASE}">
  <div class="field"><label for="window">Window</label>
    <select id="window" name="window">${Object.entries(WINDOWS).map(([k, w]) => html`<option value="${k}"${k === m.window ? html` selected` : ''}>${w.label}</option>`)}</select></div>
  <div class="field"><label for="workflow">Workflow</label>
    <select id="workflow" name="workflow"><option value="">all workflows</option>${m.workflows.map((w) => html`<option${w === m.workflow ? html` selected` : ''}>${w}</option>`)}</select></div>
  <button type="submit">Show</button>
</form>
${countsTable(m)}
${trend(m)}
${failures(m)}`;
}

function countsTable(m: OverviewModel): Html {
  const byWorkflow = new Map<string, Map<RunState, number>>();
  for (const c of m.cells) {
    const row = byWorkflow.get(c.workflow) ?? new Map<RunState, number>();
    row.set(c.state, (row.get(c.state) ?? 0) + c.n);
    byWorkflow.set(c.workflow, row);
  }
  const workflows = [...byWorkflow.keys()].sort();
  const total = (s: RunState) => workflows.reduce((a, w) => a + (byWorkflow.get(w)!.get(s) ?? 0), 0);
  const cell = (n: number) => html`<td class="n${n === 0 ? ' zero' : ''}">${n.toLocaleString('en')}</td>`;
  return html`<section aria-labelledby="counts-h">
<h2 id="counts-h">By workflow and state</h2>
${workflows.length === 0 ? html`<p>No runs were created in this window.</p>` : html`<div class="wide"><table id="counts">
<caption class="skip">Runs created in the ${WINDOWS[m.window]!.label}, by workflow (rows) and state (columns)</caption>
<thead><tr><th scope="col">Workflow</th>${RUN_STATES.map((s) => html`<th scope="col" class="n">${s}</th>`)}<th scope="col" class="n">Total</th></tr></thead>
<tbody>${workflows.map((w) => {
    const row = byWorkflow.get(w)!;
    return html`<tr><th scope="row">${w || html`<span class="muted">(none)</span>`}</th>${RUN_STATES.map((s) => cell(row.get(s) ?? 0))}${cell([...row.values()].reduce((a, n) => a + n, 0))}</tr>`;
  })}</tbody>
${workflows.length > 1 ? html`<tfoot><tr><th scope="row">All</th>${RUN_STATES.map((s) => cell(total(s)))}${cell(RUN_STATES.reduce((a, s) => a + total(s), 0))}</tr></tfoot>` : ''}
</table></div>`}
</section>`;
}

function trend(m: OverviewModel): Html {
  const hours = Array.from({ length: m.hours }, (_, i) => new Date(m.since.getTime() + i * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'));
  const counts = new Map<string, Record<Series, number>>(hours.map((h) => [h, { SUCCESSFUL: 0, FAILED: 0, ACTIVE: 0, CANCELED: 0 }]));
  for (const c of m.cells) {
    const row = counts.get(c.hour);
    if (row) row[seriesOf(c.state)] += c.n;
  }
  const max = Math.max(1, ...[...counts.values()].map((r) => SERIES.reduce((a, s) => a + r[s], 0)));
  const barW = m.hours <= 24 ? 24 : 6;
  const gap = m.hours <= 24 ? 4 : 1;
  const chartH = 140;
  const width = hours.length * (barW + gap) + 40;
  const bars = hours.map((h, i) => {
    const r = counts.get(h)!;
    let y = chartH;
    const total = SERIES.reduce((a, s) => a + r[s], 0);
    return html`<g><title>${h.replace('T', ' ').replace(':00:00Z', ':00Z')}: ${total} runs (${SERIES.map((s) => `${r[s]} ${SERIES_LABEL[s]}`).join(', ')})</title>${SERIES.map((s) => {
      const height = Math.round((r[s] / max) * (chartH - 10));
      if (height === 0) return '';
      y -= height;
      return html`<rect class="${s}" x="${30 + i * (barW + gap)}" y="${y}" width="${barW}" height="${height}"></rect>`;
    })}</g>`;
  });
  // The first label starts at its bar, the last ends at its bar's right edge (inside the chart).
  const tick = (i: number, end = false) => html`<text x="${30 + i * (barW + gap) + (end ? barW : 0)}" y="${chartH + 14}"${end ? html` text-anchor="end"` : ''}>${hours[i]!.slice(5, 13).replace('T', ' ')}h UTC</text>`;
  return html`<section aria-labelledby="trend-h">
<h2 id="trend-h">Per hour</h2>
<ul class="legend">${SERIES.map((s) => html`<li class="${s}">${SERIES_LABEL[s]}</li>`)}</ul>
<svg class="trend" role="img" aria-labelledby="trend-h trend-desc" viewBox="0 0 ${width} ${chartH + 20}" width="${width}" height="${chartH + 20}">
<desc id="trend-desc">Runs created per hour, stacked by outcome; the table below holds the numbers.</desc>
<text x="0" y="10">${max}</text><text x="0" y="${chartH}">0</text>
${bars}
${tick(0)}${hours.length > 1 ? tick(hours.length - 1, true) : ''}
</svg>
<details><summary>Per-hour numbers</summary>
<table id="trend-table"><thead><tr><th scope="col">Hour (UTC)</th>${SERIES.map((s) => html`<th scope="col" class="n">${SERIES_LABEL[s]}</th>`)}</tr></thead>
<tbody>${hours.map((h) => html`<tr><th scope="row">${time(h)}</th>${SERIES.map((s) => html`<td class="n">${counts.get(h)![s]}</td>`)}</tr>`)}</tbody></table>
</details>
</section>`;
}

function failures(m: OverviewModel): Html {
  return html`<section aria-labelledby="failures-h">
<h2 id="failures-h">Most recent failures</h2>
${m.failures.length === 0 ? html`<p>No run failed in this window.</p>` : html`<div class="wide"><table id="failures">
<thead><tr><th scope="col">Created</th><th scope="col">Workflow</th><th scope="col">Run</th><th scope="col">State</th><th scope="col">Error</th>${m.argoUrl ? html`<th scope="col">Argo</th>` : ''}</tr></thead>
<tbody>${m.failures.map((f) => html`<tr>
<td>${time(f.createdAt)}</td><td>${f.workflow}</td>
<td><a href="${f.payloadId ? `${payloadHref(f.payloadId)}#${runAnchor(f.run)}` : runHref(f.run)}">${f.run}</a></td>
<td>${stateBadge(f.state)}</td>
<td><pre class="error">${(f.error ?? '').length > 400 ? `${f.error!.slice(0, 400)}…` : f.error ?? ''}</pre></td>
${m.argoUrl ? html`<td>${argoLink(m.argoUrl, f.run, f.uid)}</td>` : ''}
</tr>`)}</tbody></table></div>`}
</section>`;
}
