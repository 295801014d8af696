"""The review page: one HTML document with its style and script inline (nothing is
fetched but the server's own JSON), built from the folder's name and the page's token."""

from __future__ import annotations

from html import escape
from typing import Final

__all__ = ["page_html"]

_STYLE: Final = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{padding:8px 12px;background:#f3f3f3;border-bottom:1px solid #ccc}
header h1{font-size:16px;margin:0 0 6px}
.bar{display:flex;flex-wrap:wrap;gap:6px;align-items:center}
main{display:grid;grid-template-columns:minmax(320px,40%) 1fr;height:calc(100vh - 110px)}
#list{overflow:auto;border-right:1px solid #ccc}
#detail{overflow:auto;padding:8px 12px}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
tr.row{cursor:pointer} tr.row:hover,tr.current{background:#eef4ff}
.tag{display:inline-block;background:#e4e4e4;border-radius:3px;padding:0 4px;margin:1px;
font-size:12px}
.reject{color:#a00}.accept{color:#070}.edit{color:#05a}
del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}
pre{white-space:pre-wrap;margin:2px 0}
textarea{width:100%;min-height:6em;font:13px monospace}
.error{color:#a00;white-space:pre-wrap}
"""

_SCRIPT: Final = r"""
const token = document.body.dataset.token;
const $ = (id) => document.getElementById(id);
const FILTERS = ["kind", "issue", "reason", "decision", "delta", "dialect"];
let page = 1, size = 50, total = 0, current = null;

function query() {
  const q = new URLSearchParams();
  for (const f of FILTERS) if ($(f).value) q.set(f, $(f).value);
  if ($("q").value.trim()) q.set("q", $("q").value.trim());
  return q;
}
function filters() { return Object.fromEntries(query()); }
async function api(path, body) {
  const init = body === undefined ? {} : {method: "POST", body: JSON.stringify(body),
    headers: {"X-Review-Token": token, "Content-Type": "application/json"}};
  const resp = await fetch(path, init);
  const data = await resp.json();
  if (!resp.ok) throw Object.assign(new Error(data.error || resp.status), {data});
  return data;
}
function option(select, value, text) {
  const o = document.createElement("option"); o.value = value; o.textContent = text;
  select.appendChild(o);
}
function tags(values, cls) {
  const span = document.createElement("span");
  for (const v of values) {
    const t = document.createElement("span"); t.className = "tag " + (cls || "");
    t.textContent = v.replaceAll("_", " "); span.appendChild(t);
  }
  return span;
}
function status(text) { $("status").textContent = text; }
function counts(d) {
  $("decided").textContent =
    `${d.accept} accepted, ${d.reject} rejected, ${d.edit} edited`;
}

async function summary() {
  const s = await api("/api/summary");
  for (const [id, key] of [["kind", "kind"], ["issue", "issues"], ["reason", "reasons"],
                           ["dialect", "dialect"]]) {
    for (const v of s.choices[key]) option($(id), v, v.replaceAll("_", " "));
  }
  counts(s.decisions);
  const rej = Object.entries(s.rejections).map(([k, v]) => `${k} ${v}`).join(", ");
  $("rejections").textContent = rej ? `Gate rejections: ${rej}` : "";
}

async function load() {
  const q = query(); q.set("page", page); q.set("size", size);
  const data = await api("/api/rows?" + q);
  total = data.total;
  const pages = Math.max(1, Math.ceil(total / size));
  $("total").textContent = `${total} rows`;
  $("page").value = page; $("pages").textContent = pages;
  $("bulk-reject").textContent = `Reject all ${total}`;
  $("bulk-accept").textContent = `Accept all ${total}`;
  const body = $("rows").querySelector("tbody"); body.replaceChildren();
  for (const r of data.rows) {
    const tr = document.createElement("tr"); tr.className = "row"; tr.dataset.line = r.line;
    const cells = [String(r.line), r.kind, null, r.decision || ""];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      if (i === 2) td.appendChild(tags(r.issues.concat(r.reasons)));
      else td.textContent = c;
      if (i === 3 && c) td.className = c;
      tr.appendChild(td);
    });
    tr.onclick = () => show(r.line);
    body.appendChild(tr);
  }
}

function turnsBlock(title, turns) {
  const div = document.createElement("div");
  const h = document.createElement("h3"); h.textContent = title; div.appendChild(h);
  for (const t of turns || []) {
    const b = document.createElement("b"); b.textContent = t.role; div.appendChild(b);
    const pre = document.createElement("pre"); pre.textContent = t.content;
    div.appendChild(pre);
  }
  return div;
}

async function show(line) {
  const d = await api(`/api/row/${line}`);
  current = d;
  for (const tr of document.querySelectorAll("tr.row"))
    tr.classList.toggle("current", tr.dataset.line === String(line));
  const box = $("detail"); box.replaceChildren();
  const h = document.createElement("h2");
  h.textContent = `Input line ${d.line}: ${d.kind}` + (d.decision ? ` (${d.decision})` : "");
  box.appendChild(h); box.appendChild(tags(d.issues.concat(d.reasons)));
  const buttons = document.createElement("div"); buttons.className = "bar";
  for (const [id, text] of [["accept", "Accept"], ["reject", "Reject"], ["edit", "Edit"]]) {
    if (id === "edit" && d.kind !== "improved") continue;
    const b = document.createElement("button"); b.id = id; b.textContent = text;
    b.onclick = id === "edit" ? () => editor(d) : () => decide([d.key], id);
    buttons.appendChild(b);
  }
  box.appendChild(buttons);
  if (d.failure) {
    const p = document.createElement("p"); p.className = "error";
    p.textContent = `Failed (${d.failure.reason}) after ${d.failure.attempts} answer(s):\n`
      + d.failure.errors.join("\n");
    box.appendChild(p);
    if (d.failure.last_answer) {
      const h3 = document.createElement("h3"); h3.textContent = "The last answer";
      const pre = document.createElement("pre"); pre.id = "last-answer";
      pre.textContent = d.failure.last_answer; box.appendChild(h3); box.appendChild(pre);
    }
  }
  for (const c of d.changes || []) {
    const t = document.createElement("table");
    t.innerHTML = "<tr><th colspan=2></th></tr><tr><td class=before></td>"
      + "<td class=after></td></tr>";
    t.querySelector("th").textContent = `${c.where}: ${c.what}`;
    t.querySelector(".before").innerHTML = c.diff[0];  // escaped by the server
    t.querySelector(".after").innerHTML = c.diff[1];
    box.appendChild(t);
  }
  if (d.improved) box.appendChild(turnsBlock("Improvement", d.improved));
  if (d.original) box.appendChild(turnsBlock("Original", d.original));
}

function editor(d) {
  const box = $("detail"); box.replaceChildren();
  const h = document.createElement("h2"); h.textContent = `Edit input line ${d.line}`;
  box.appendChild(h);
  const areas = d.improved.map((t) => {
    const b = document.createElement("b"); b.textContent = t.role; box.appendChild(b);
    const a = document.createElement("textarea"); a.className = "turn"; a.value = t.content;
    a.dataset.role = t.role; box.appendChild(a); return a;
  });
  const note = document.createElement("input"); note.id = "note"; note.placeholder = "note";
  box.appendChild(note);
  const save = document.createElement("button"); save.id = "save"; save.textContent = "Save";
  const err = document.createElement("p"); err.id = "edit-error"; err.className = "error";
  save.onclick = async () => {
    const turns = areas.map((a) => ({role: a.dataset.role, content: a.value}));
    try {
      const r = await api("/api/edit", {line: d.line, turns, note: note.value});
      counts(r.decisions); status(`line ${d.line} edited`); await load(); await show(d.line);
    } catch (e) { err.textContent = e.message; }
  };
  box.appendChild(save); box.appendChild(err);
}

async function decide(keys, decision) {
  const r = await api("/api/decide", {keys, decision});
  counts(r.decisions); status(`${r.decided} ${decision}ed`); await load();
  if (current) await show(current.line);
}
async function bulk(decision) {
  const r = await api("/api/decide", {filters: filters(), decision});
  counts(r.decisions); status(`${r.decided} rows ${decision}ed`); await load();
}

for (const f of FILTERS) $(f).onchange = () => { page = 1; load(); };
$("search").onclick = () => { page = 1; load(); };
$("q").onkeydown = (e) => { if (e.key === "Enter") { page = 1; load(); } };
$("prev").onclick = () => { if (page > 1) { page--; load(); } };
$("next").onclick = () => { if (page * size < total) { page++; load(); } };
$("page").onchange = () => { page = Math.max(1, parseInt($("page").value) || 1); load(); };
$("bulk-reject").onclick = () => bulk("reject");
$("bulk-accept").onclick = () => bulk("accept");
$("apply").onclick = async () => {
  status("rebuilding the KTO file and the report...");
  const r = await api("/api/apply", {});
  status(`applied: the KTO file holds ${r.kto ? r.kto.rows : 0} rows`);
};
summary().then(load).then(() => { document.body.dataset.ready = "1"; });
"""


def page_html(folder: str, token: str) -> str:
    """The page for the folder named ``folder``; ``token`` guards its changes."""
    selects = "".join(
        f'<select id="{name}" title="{label}"><option value="">{label}: all</option>{extra}'
        "</select>"
        for name, label, extra in (
            ("kind", "outcome", ""),
            ("issue", "issue", ""),
            ("reason", "rejection", ""),
            (
                "decision",
                "decision",
                '<option value="undecided">undecided</option><option value="accept">'
                'accepted</option><option value="reject">rejected</option>'
                '<option value="edit">edited</option>',
            ),
            (
                "delta",
                "judge score",
                '<option value="up">up</option><option value="down">down</option>'
                '<option value="same">same</option>',
            ),
            ("dialect", "dialect", ""),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Review: {escape(folder)}</title><style>{_STYLE}</style></head>
<body data-token="{escape(token)}">
<header><h1>Review: {escape(folder)}</h1>
<div class="bar">{selects}
<input id="q" type="search" placeholder="search the rows"><button id="search">Search</button>
</div>
<div class="bar"><span id="total"></span>
<button id="bulk-reject"></button><button id="bulk-accept"></button>
<button id="prev">&lt;</button> page <input id="page" size="4"> of <span id="pages"></span>
<button id="next">&gt;</button> | <span id="decided"></span>
<button id="apply">Apply to the training files</button> <span id="status"></span>
<span id="rejections"></span></div></header>
<main><div id="list"><table id="rows"><thead><tr><th>line</th><th>outcome</th>
<th>issues / rejections</th><th>decision</th></tr></thead><tbody></tbody></table></div>
<div id="detail"><p>Choose a row.</p></div></main>
<script>{_SCRIPT}</script></body></html>
"""
