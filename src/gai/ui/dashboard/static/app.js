// gai ui: the runs list and one run's page. Everything shown comes from the JSON API
// and goes into the page as text (textContent), never as markup.
"use strict";

const TOKEN_KEY = "gai-ui-token";
(function keepToken() {
  const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
})();
const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({ "X-Gai-Token": token() }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (!response.ok) {
    let message = await response.text();
    try { message = JSON.parse(message).error || message; } catch (e) { /* text */ }
    throw new Error(message);
  }
  return response.json();
}

function live(query, onChange) {
  const params = new URLSearchParams(query);
  if (token()) params.set("token", token());
  const source = new EventSource("/api/live?" + params.toString());
  const badge = document.getElementById("live");
  source.onmessage = () => { badge.classList.remove("off"); onChange(); };
  source.onerror = () => badge.classList.add("off");
}

function ago(iso) {
  return new Date(iso).toLocaleString();
}

function seconds(value) {
  return value < 10 ? value.toFixed(2) + "s" : value.toFixed(1) + "s";
}

function pretty(value) {
  if (typeof value === "string") {
    try { return JSON.stringify(JSON.parse(value), null, 2); } catch (e) { return value; }
  }
  return JSON.stringify(value, null, 2);
}

function block(value, limit = 400) {
  const text = pretty(value);
  if (text.length <= limit) return el("pre", { text });
  return el("details", {}, el("summary", { text: `${text.length} characters` }), el("pre", { text }));
}

// ---- the runs list --------------------------------------------------------------

function runsPage() {
  const form = document.getElementById("filters");
  const rows = document.getElementById("rows");
  const more = document.getElementById("more");
  const params = new URLSearchParams(location.search);
  for (const name of ["status", "model", "q"]) form.elements[name].value = params.get(name) || "";
  const local = (iso) => {  // an ISO time as the datetime-local input shows it
    const moment = new Date(iso);
    return new Date(moment.getTime() - moment.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  };
  for (const name of ["since", "until"]) {
    if (params.get(name)) form.elements[name].value = local(params.get(name));
  }
  let next = null;
  let paged = false;

  function query(afterId) {
    const q = new URLSearchParams();
    for (const name of ["status", "model", "q"]) {
      if (form.elements[name].value) q.set(name, form.elements[name].value);
    }
    for (const name of ["since", "until"]) {
      // The browser's local time, sent in UTC.
      if (form.elements[name].value) q.set(name, new Date(form.elements[name].value).toISOString());
    }
    if (afterId) q.set("after_id", afterId);
    return q;
  }

  function row(run) {
    return el("tr", { "data-run": run.run_id },
      el("td", {}, el("a", { href: "/run/" + encodeURIComponent(run.run_id), text: run.run_id })),
      el("td", {}, el("span", { class: "status " + run.status, text: run.status })),
      el("td", { text: run.model }),
      el("td", { text: String(run.steps) }),
      el("td", { text: ago(run.created_at) }),
      el("td", { text: run.status === "running" ? "…" : seconds(run.duration) }),
      el("td", { class: "error", text: run.error || "", title: run.error || "" }),
    );
  }

  async function loadQueues() {
    const found = (await api("/api/queues")).queues;
    const box = document.getElementById("queues");
    box.hidden = !found;
    if (!found) return;
    box.replaceChildren(el("h2", { text: "Durable queues" }));
    for (const [name, counts] of Object.entries(found)) {
      box.append(el("div", { class: "queue", "data-queue": name },
        el("span", { class: "name", text: name }),
        ...Object.entries(counts).map(([state, n]) =>
          el("span", { class: "count " + state, "data-state": state, text: `${state} ${n}` }))));
    }
  }

  async function load(append) {
    if (!append) loadQueues();
    const page = await api("/api/runs?" + query(append ? next : null).toString());
    if (!append) rows.replaceChildren();
    for (const run of page.runs) rows.append(row(run));
    next = page.next;
    more.hidden = !next;
    document.getElementById("empty").hidden = rows.children.length > 0;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", "/?" + query(null).toString());
    paged = false;
    load(false);
  });
  more.addEventListener("click", () => { paged = true; load(true); });
  load(false);
  // The first page follows the store; pages loaded with "More" stay as they are.
  live({}, () => { if (!paged) load(false); });
}

// ---- one run ----------------------------------------------------------------------

function runPage() {
  const runId = decodeURIComponent(location.pathname.slice("/run/".length));
  document.getElementById("run-id").textContent = runId;
  document.title = "gai · " + runId;

  function summary(run) {
    const parts = [
      el("span", { class: "status " + run.status, text: run.status }),
      " ", run.model, " · started ", ago(run.created_at),
      ` · ${run.usage.input_tokens} tokens in, ${run.usage.output_tokens} out`,
    ];
    if (run.cost !== null) parts.push(` · $${run.cost}`);
    if (run.stop) parts.push(` · ${run.stop.kind}: ${run.stop.detail}`);
    if (run.parent_run_id) {
      parts.push(" · forked from ",
        el("a", { href: "/run/" + encodeURIComponent(run.parent_run_id), text: run.parent_run_id }));
    }
    const box = document.getElementById("summary");
    box.replaceChildren(el("div", {}, ...parts));
    if (run.error) box.append(el("div", { class: "error", text: run.error }));
    if (run.metadata) box.append(el("div", { class: "note", text: "metadata " + JSON.stringify(run.metadata) }));
  }

  function timeline(run) {
    const total = Math.max(0.000001, ...run.timeline.map((r) => r.end));
    const axis = document.getElementById("axis");
    axis.replaceChildren();
    for (let i = 0; i <= 5; i++) {
      const tick = el("span", { class: "tick", text: seconds(total * i / 5) });
      tick.style.left = (i * 20) + "%";
      axis.append(tick);
    }
    const box = document.getElementById("timeline");
    box.replaceChildren();
    const pct = (value) => (100 * value / total) + "%";
    for (const item of run.timeline) {
      const lane = el("div", { class: "tl-lane" });
      const bar = (css, start, end, title) => {
        const node = el("div", { class: "bar " + css, title });
        node.dataset.start = String(start);
        node.dataset.end = String(end);
        node.style.left = pct(start);
        node.style.width = pct(Math.max(0, end - start));
        lane.append(node);
      };
      const failed = item.error ? " error" : "";
      if (item.kind === "step") {
        bar("step" + failed, item.start, item.end, `${item.label}: ${seconds(item.end - item.start)}`);
        bar("model", item.start, item.model_end,
          `model ${seconds(item.model_end - item.start)}` + (item.attempts > 1 ? `, ${item.attempts} attempts` : ""));
      } else {
        bar("tool" + failed, item.start, item.end, `${item.label}: ${seconds(item.end - item.start)}`);
      }
      const row = el("div", { class: "tl-row " + item.kind, "data-kind": item.kind },
        el("div", { class: "tl-label", text: (item.kind === "tool" ? "  " : "") + item.label }), lane);
      if (item.error) row.append(el("div", { class: "tl-error", text: item.error }));
      box.append(row);
    }
  }

  function message(role, ...children) {
    return el("div", { class: "msg " + role }, el("div", { class: "role", text: role }), ...children);
  }

  function conversation(run) {
    const box = document.getElementById("conversation");
    box.replaceChildren();
    if (run.system) box.append(message("system", el("div", { class: "text", text: run.system })));
    for (const m of run.input) {
      box.append(message(m.role, ...m.parts.map((p) =>
        p.type === "call" ? el("div", { class: "call" }, el("span", { class: "name", text: p.name }), block(p.arguments))
          : el("div", { class: p.type === "reasoning" ? "reasoning" : "text", text: p.text }))));
    }
    for (const step of run.steps) {
      const meta = `step ${step.step} · ${step.model || ""} · ${step.usage.input_tokens} in / ${step.usage.output_tokens} out`
        + (step.cost !== null ? ` · $${step.cost}` : "") + ` · ${seconds(step.duration)}`
        + (step.context ? ` · context: ${step.context}` : "");
      const children = [el("div", { class: "meta", text: meta })];
      for (const thought of step.reasoning) children.push(el("div", { class: "reasoning", text: thought }));
      if (step.text) children.push(el("div", { class: "text", text: step.text }));
      for (const call of step.calls) {
        const result = call.error !== null
          ? el("div", { class: "result" }, el("div", { text: "error" }), block(call.error))
          : call.output !== null ? el("div", { class: "result" }, el("div", { class: "meta", text: "result" }), block(call.output)) : null;
        children.push(el("div", { class: "call" + (call.error !== null ? " error" : ""), "data-call": call.call_id },
          el("span", { class: "name", text: call.name }), block(call.arguments), result));
      }
      if (step.error) children.push(el("div", { class: "tl-error", text: step.error }));
      box.append(message("assistant", ...children));
    }
    const now = run.in_progress;
    if (now) {
      const children = [el("div", { class: "meta", text: `step ${now.step} · in progress` })];
      for (const thought of now.reasoning) children.push(el("div", { class: "reasoning", text: thought }));
      if (now.text) children.push(el("div", { class: "text", text: now.text }));
      for (const call of now.calls) {
        const state = call.error !== null ? el("div", { class: "result" }, el("div", { text: "error" }), block(call.error))
          : call.output !== null ? el("div", { class: "result" }, el("div", { class: "meta", text: "result" }), block(call.output))
          : el("div", { class: "meta", text: call.running ? "running…" : "waiting" });
        children.push(el("div", { class: "call", "data-call": call.call_id },
          el("span", { class: "name", text: call.name }), block(call.arguments), state));
      }
      box.append(message("assistant", ...children));
    }
  }

  function pending(run) {
    const section = document.getElementById("pending");
    const calls = document.getElementById("calls");
    section.hidden = run.pending.length === 0;
    calls.replaceChildren();
    document.getElementById("decide-note").textContent = run.resume_error
      ? "The run could not resume: " + run.resume_error
      : run.can_decide ? ""
      : "Decisions are made where the tools are: start gai ui with --resume module:function (or --tools), or resume the run in your program.";
    for (const call of run.pending) {
      const args = el("textarea", { "aria-label": "arguments of " + call.call_id });
      args.value = JSON.stringify(call.arguments, null, 2);
      const send = async (verdict) => {
        const body = { call_id: call.call_id, verdict };
        if (verdict === "approve") {
          try { body.arguments = JSON.parse(args.value); } catch (e) {
            document.getElementById("decide-note").textContent = "The arguments are not valid JSON: " + e.message;
            return;
          }
        }
        try {
          await api(`/api/runs/${encodeURIComponent(runId)}/decisions`, {
            method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
          });
          document.getElementById("decide-note").textContent = `Sent: ${verdict}. The run resumes.`;
        } catch (e) {
          document.getElementById("decide-note").textContent = e.message;
        }
      };
      const approveButton = el("button", { text: "Approve", disabled: !run.can_decide });
      approveButton.addEventListener("click", () => send("approve"));
      const rejectButton = el("button", { class: "secondary", text: "Reject", disabled: !run.can_decide });
      rejectButton.addEventListener("click", () => send("reject"));
      calls.append(el("div", { class: "call", "data-pending": call.call_id },
        el("span", { class: "name", text: call.name }), args,
        el("div", { class: "actions" }, approveButton, rejectButton)));
    }
  }

  async function load() {
    let run;
    try { run = await api("/api/runs/" + encodeURIComponent(runId)); } catch (e) {
      document.getElementById("summary").replaceChildren(el("div", { class: "error", text: e.message }));
      return;
    }
    summary(run);
    timeline(run);
    conversation(run);
    pending(run);
    document.body.dataset.status = run.status;
    document.body.dataset.steps = String(run.steps.length);
  }

  load();
  live({ run: runId }, load);
}

if (document.body.dataset.page === "runs") runsPage();
else runPage();
