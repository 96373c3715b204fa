/**
 * The dashboard's one stylesheet, served as /dashboard/style.css (the Content-Security-Policy
 * allows no inline styles). Colours keep text at 4.5:1 or more against its background and
 * chart marks at 3:1 or more (WCAG 2.1 AA 1.4.3 and 1.4.11; the browser test measures them),
 * and focus is always visible.
 */
export const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --link: #0550ae; --ok: #1a7f37; --bad: #cf222e; --active: #0969da; --other: #6e7781; --focus: #bf3989; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 0.5rem; background: var(--bg); padding: 0.25rem 0.5rem; z-index: 1; }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: 0.6rem 1.25rem; background: #24292f; color: #ffffff; }
header.top a { color: #ffffff; }
header.top .brand { font-weight: 600; text-decoration: none; margin-right: 1rem; }
header.top nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; }
header.top form { margin-left: auto; display: flex; gap: 0.4rem; }
header.top .who { font-size: 0.85rem; }
main { padding: 1rem 1.25rem 3rem; max-width: 90rem; }
h1 { font-size: 1.4rem; margin: 0.4rem 0 0.8rem; word-break: break-all; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 0.5rem; }
input, select, button { font: inherit; color: var(--fg); }
input[type=search], input[type=password] { padding: 0.3rem 0.5rem; border: 1px solid #8c959f; border-radius: 4px; min-width: 18rem; background: var(--bg); }
select { padding: 0.3rem; border: 1px solid #8c959f; border-radius: 4px; background: var(--bg); }
button { padding: 0.3rem 0.8rem; border: 1px solid #1f2328; border-radius: 4px; background: #1f2328; color: #ffffff; cursor: pointer; }
form.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; background: var(--panel); padding: 0.75rem; border: 1px solid var(--line); border-radius: 6px; }
form.filters .field { display: flex; flex-direction: column; gap: 0.2rem; }
form.filters label { font-size: 0.85rem; color: var(--muted); }
table { border-collapse: collapse; margin: 0.3rem 0; }
th, td { text-align: left; padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: var(--muted); }
.wide { overflow-x: auto; }
.state { display: inline-block; padding: 0 0.4rem; border-radius: 3px; font-size: 0.8rem; font-weight: 600; color: #ffffff; white-space: nowrap; }
.state.SUCCESSFUL { background: var(--ok); }
.state.FAILED, .state.TIMED_OUT, .state.INVALID { background: var(--bad); }
.state.PENDING, .state.QUEUED, .state.RUNNING { background: var(--active); }
.state.CANCELED, .state.none { background: var(--other); }
pre.error { margin: 0; white-space: pre-wrap; word-break: break-word; max-width: 48rem; font-size: 0.85rem; }
code { font-size: 0.9em; word-break: break-all; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
ol.timeline li { padding: 0.3rem 0 0.3rem 0.9rem; }
ol.timeline time { font-variant-numeric: tabular-nums; color: var(--muted); margin-right: 0.5rem; }
ol.timeline .kind { font-weight: 600; margin-right: 0.4rem; }
svg.trend { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); background: var(--bg); }
svg.trend .SUCCESSFUL { fill: var(--ok); }
svg.trend .FAILED { fill: var(--bad); }
svg.trend .ACTIVE { fill: var(--active); }
svg.trend .CANCELED { fill: var(--other); }
svg.trend text { fill: var(--muted); font-size: 11px; }
ul.legend { display: flex; gap: 1rem; list-style: none; padding: 0; margin: 0.3rem 0; font-size: 0.85rem; }
ul.legend li::before { content: ""; display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem; vertical-align: -0.1rem; background: var(--swatch); }
ul.legend .SUCCESSFUL { --swatch: var(--ok); }
ul.legend .FAILED { --swatch: var(--bad); }
ul.legend .ACTIVE { --swatch: var(--active); }
ul.legend .CANCELED { --swatch: var(--other); }
.notice { padding: 0.6rem 0.8rem; border: 1px solid var(--line); border-left: 4px solid var(--bad); background: var(--panel); }
`;
