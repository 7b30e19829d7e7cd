// The statecraft inspector's live updates: the page listens to the
// server-sent events of ../events (the View as JSON, sent on each change)
// and updates its state, counters, diagram and tables in place. Every
// text goes in through textContent, never as markup.
"use strict";
(function () {
  const body = document.body;
  const page = body.dataset.page;
  const name = body.dataset.name;
  const base = body.dataset.base;
  const live = document.getElementById("live");

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function clock(t) {
    const d = new Date(t);
    const p = (n, w) => String(n).padStart(w || 2, "0");
    return p(d.getUTCHours()) + ":" + p(d.getUTCMinutes()) + ":" + p(d.getUTCSeconds()) + "." + p(d.getUTCMilliseconds(), 3);
  }
  function duration(ns) {
    if (ns < 1e3) return ns + "ns";
    if (ns < 1e6) return (ns / 1e3).toFixed(1) + "µs";
    if (ns < 1e9) return (ns / 1e6).toFixed(1) + "ms";
    return (ns / 1e9).toFixed(2) + "s";
  }
  function setText(id, text) {
    const e = document.getElementById(id);
    if (e && e.textContent !== text) e.textContent = text;
  }
  function counterSpans(td, counters) {
    td.replaceChildren();
    for (const c of counters) {
      const s = el("span", c.name + " ", "counter");
      s.appendChild(el("b", c.value));
      td.appendChild(s);
      td.appendChild(document.createTextNode(" "));
    }
  }
  function counterTable(counters) {
    const t = document.getElementById("counters");
    if (!t) return;
    t.replaceChildren();
    for (const c of counters) {
      const tr = el("tr");
      tr.appendChild(el("th", c.name));
      tr.appendChild(el("td", c.value));
      t.appendChild(tr);
    }
  }
  function diagram(current, visits) {
    const svg = document.querySelector("#diagram svg");
    if (!svg) return;
    for (const g of svg.querySelectorAll("g.state")) {
      g.classList.toggle("current", current !== undefined && g.dataset.state === current);
    }
    for (const g of svg.querySelectorAll("g.edge")) {
      let any = false;
      for (const t of g.querySelectorAll("tspan[data-edge]")) {
        const n = visits[t.dataset.edge] || 0;
        t.textContent = n > 0 ? " ×" + n : "";
        t.closest("text").classList.toggle("visited", n > 0);
        any = any || n > 0;
      }
      g.classList.toggle("visited", any);
    }
  }
  function path(states) { return states.join(" → "); }

  function updateList(view) {
    const rows = {};
    for (const tr of document.querySelectorAll("tr[data-name]")) rows[tr.dataset.name] = tr;
    const names = view.machines.map(m => m.name).concat(view.workflows.map(w => w.name));
    if (names.length !== Object.keys(rows).length || names.some(n => !rows[n])) {
      location.reload(); // something was registered
      return;
    }
    for (const m of view.machines) {
      const tr = rows[m.name];
      const st = tr.querySelector("td.state");
      st.textContent = m.state;
      st.dataset.current = m.state;
      tr.querySelector("td.generation").textContent = m.generation === undefined ? "" : String(m.generation);
      tr.querySelector("td.steps").textContent = m.observed ? String(m.steps) : "not observed";
      counterSpans(tr.querySelector("td.counters"), m.counters);
    }
    for (const w of view.workflows) {
      const tr = rows[w.name];
      tr.querySelector("td.executions").textContent = String(w.executions);
      tr.querySelector("td.last").textContent = w.recent.length ? w.recent[0].outcome + ": " + path(w.recent[0].path) : "";
      counterSpans(tr.querySelector("td.counters"), w.counters);
    }
  }

  function updateMachine(m) {
    const st = document.getElementById("state");
    st.textContent = m.state;
    st.dataset.current = m.state;
    setText("generation", m.generation === undefined ? "" : String(m.generation));
    setText("steps", m.observed ? String(m.steps) : "not observed");
    counterTable(m.counters);
    diagram(m.state, m.visits);
    const tbody = document.querySelector("#recent tbody");
    tbody.replaceChildren();
    for (const s of m.recent) {
      const tr = el("tr");
      for (const v of [clock(s.time), s.from, s.event, s.to, s.error || ""]) tr.appendChild(el("td", v));
      tbody.appendChild(tr);
    }
  }

  function updateWorkflow(w, machines) {
    setText("executions", String(w.executions));
    counterTable(w.counters);
    diagram(undefined, w.visits);
    for (const s of document.querySelectorAll(".shared .state[data-name]")) {
      const m = machines.find(m => m.name === s.dataset.name);
      if (m) s.textContent = m.state;
    }
    const tbody = document.querySelector("#runs tbody");
    tbody.replaceChildren();
    for (const x of w.recent) {
      const tr = el("tr", undefined, x.outcome);
      tr.appendChild(el("td", String(x.seq)));
      tr.appendChild(el("td", clock(x.start)));
      tr.appendChild(el("td", duration(x.duration)));
      const o = el("td", x.outcome);
      if (x.error) o.title = x.error;
      tr.appendChild(o);
      tr.appendChild(el("td", path(x.path), "path"));
      tbody.appendChild(tr);
    }
  }

  function update(view) {
    if (page === "list") updateList(view);
    else if (page === "machine" && view.machines.length) updateMachine(view.machines[0]);
    else if (page === "workflow" && view.workflows.length) updateWorkflow(view.workflows[0], view.machines);
  }

  // The workflow page also shows the shared machines' states: it follows
  // the whole View; the machine page only its own.
  const url = base + "events" + (page === "machine" ? "?name=" + encodeURIComponent(name) : "");
  const es = new EventSource(url);
  es.onopen = () => { live.textContent = "live"; live.className = "live on"; };
  es.onerror = () => { live.textContent = "reconnecting…"; live.className = "live off"; };
  es.onmessage = ev => update(JSON.parse(ev.data));
})();
