/**
 * The status page: one server-rendered HTML document with its style and its one small script
 * inline (allowed by hash in the Content-Security-Policy), no external assets. It works without
 * JavaScript: the filters are a GET form; the script only submits it when a filter changes.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { STATE_FILTERS, type WorkloadState, type WorkloadStatus } from "./view.ts";

const STYLE = `
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:1em;max-width:80em;color:#1b1b1b;background:#fff}
h1{font-size:1.4em;margin:.2em 0}
form{display:flex;flex-wrap:wrap;gap:.6em 1em;align-items:end;margin:1em 0}
label{display:flex;flex-direction:column;font-weight:600;font-size:.9em}
select,button{font:inherit;padding:.3em .5em;min-height:2.2em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:.4em 0}
th,td{border-bottom:1px solid #ccc;padding:.5em;text-align:left;vertical-align:top}
thead th{background:#f2f2f2}
ul{margin:0;padding-left:1.1em}
code{font-size:.88em;word-break:break-all}
.state{display:inline-block;padding:.1em .5em;border-radius:.3em;font-weight:600;border:1px solid}
.s-ok{background:#e6f4ea;color:#0d5323}
.s-pending{background:#fff4d6;color:#6b4e00}
.s-in-progress{background:#e3eefc;color:#0b3d91}
.s-failed{background:#fde7e9;color:#8a1020}
.s-held{background:#eee;color:#333}
.muted{color:#555}
@media (max-width:40em){thead{display:none}tr,td,th{display:block}tr{border-bottom:2px solid #999;padding:.4em 0}td,th{border:0;padding:.2em 0}td::before{content:attr(data-label) ": ";font-weight:600}}
`;

const SCRIPT =
  `document.querySelectorAll("form.filters select").forEach(function(s){s.addEventListener("change",function(){s.form.submit();});});`;

const hash = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/**
 * The page's Content-Security-Policy: nothing but its own inline style and script (by hash),
 * forms to itself, and the empty icon.
 *
 * @example
 * ```ts
 * import { STATUS_CSP } from "./render.ts";
 * STATUS_CSP.startsWith("default-src 'none'"); // true
 * ```
 */
export const STATUS_CSP = `default-src 'none'; style-src ${hash(STYLE)}; script-src ${
  hash(SCRIPT)
}; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;

/** The words for each state (a colour never says it alone). */
const STATE_WORDS: Readonly<Record<WorkloadState | "all", string>> = {
  all: "All",
  ok: "Up to date",
  pending: "Pending",
  "in-progress": "In progress",
  failed: "Failed or reverted",
  held: "Held",
};

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** What the page shows and how it was filtered. */
export interface StatusPage {
  workloads: readonly WorkloadStatus[];
  /** Every namespace with a labelled workload, for the filter. */
  namespaces: readonly string[];
  namespace?: string;
  state: WorkloadState | "all";
  /** RFC 3339. */
  generatedAt: string;
}

/**
 * The HTML document.
 *
 * @example
 * ```ts
 * import { renderStatusPage } from "./render.ts";
 * const html = renderStatusPage({ workloads: [], namespaces: [], state: "all", generatedAt: "2026-01-01T00:00:00Z" });
 * html.includes("<table"); // true
 * ```
 */
export function renderStatusPage(page: StatusPage): string {
  const option = (value: string, label: string, selected: boolean) =>
    `<option value="${esc(value)}"${selected ? " selected" : ""}>${esc(label)}</option>`;
  const rows = page.workloads.map(row).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Argoos status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Argoos status</h1>
<p class="muted">Labelled workloads as this replica sees them, at <time datetime="${page.generatedAt}">${page.generatedAt}</time>. <a href="">Refresh</a></p>
<form class="filters" method="get" action="status">
<label for="f-namespace">Namespace
<select id="f-namespace" name="namespace">
${option("", "All namespaces", !page.namespace)}
${page.namespaces.map((n) => option(n, n, n === page.namespace)).join("\n")}
</select></label>
<label for="f-state">State
<select id="f-state" name="state">
${STATE_FILTERS.map((s) => option(s, STATE_WORDS[s], s === page.state)).join("\n")}
</select></label>
<button type="submit">Filter</button>
</form>
<div class="scroll">
<table>
<caption>${page.workloads.length} workload${page.workloads.length === 1 ? "" : "s"}</caption>
<thead><tr>
<th scope="col">Workload</th><th scope="col">Policy</th><th scope="col">State</th>
<th scope="col">Containers</th><th scope="col">Rollout and last outcome</th><th scope="col">Rejected digests</th>
</tr></thead>
<tbody>
${rows || `<tr><td colspan="6">No workload matches.</td></tr>`}
</tbody>
</table>
</div>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** A digest shortened to 12 hex digits as `docker images` shows it; the whole in its title. */
const digest = (d: string) =>
  `<code title="${esc(d)}">${esc(d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]{52}$/, "$1…"))}</code>`;

function row(w: WorkloadStatus): string {
  const settings = Object.entries(w.settings).map(([k, v]) =>
    `<li><code>${esc(k)}: ${esc(v)}</code></li>`
  ).join("");
  const containers = w.containers.map((c) => {
    const running = c.running === undefined
      ? `<span class="muted">pods not read yet</span>`
      : c.running.length === 0
      ? "no pods"
      : c.running.map((r) => `${digest(r.digest)} on ${r.pods} pod${r.pods === 1 ? "" : "s"}`)
        .join(", ");
    const next = c.candidate !== undefined
      ? `<br>next: <code>${esc(c.candidate)}</code>${c.why ? ` (${esc(c.why)})` : ""}`
      : c.why
      ? `<br><span class="muted">${esc(c.why)}</span>`
      : "";
    return `<li><strong>${esc(c.name)}</strong>: <code>${
      esc(c.image)
    }</code><br>runs: ${running}${next}</li>`;
  }).join("");
  const rollout = w.rollout
    ? `<p>rolling out since <time datetime="${w.rollout.since}">${w.rollout.since}</time> (${w.rollout.state})</p>`
    : "";
  const outcome = w.lastOutcome
    ? `<p>${
      esc(w.lastOutcome.reason)
    } at <time datetime="${w.lastOutcome.at}">${w.lastOutcome.at}</time>: ${
      esc(w.lastOutcome.message)
    }</p>`
    : "";
  const rejected = w.rejected.map((r) =>
    `<li>${r.tag ? `<code>${esc(r.tag)}</code> ` : ""}${digest(r.digest)}: ${
      esc(r.reason)
    } (<time datetime="${r.at}">${r.at}</time>)</li>`
  ).join("");
  return `<tr data-state="${w.state}">
<th scope="row" data-label="Workload">${esc(w.kind)} ${esc(w.namespace)}/${esc(w.name)}</th>
<td data-label="Policy"><code>${esc(w.policy)}</code>${settings ? `<ul>${settings}</ul>` : ""}</td>
<td data-label="State"><span class="state s-${w.state}">${STATE_WORDS[w.state]}</span>${
    w.stateReason ? `<br>${esc(w.stateReason)}` : ""
  }</td>
<td data-label="Containers"><ul>${containers}</ul></td>
<td data-label="Rollout and last outcome">${rollout}${
    outcome || (rollout ? "" : `<span class="muted">none seen</span>`)
  }</td>
<td data-label="Rejected digests">${
    rejected ? `<ul>${rejected}</ul>` : `<span class="muted">none</span>`
  }</td>
</tr>`;
}
