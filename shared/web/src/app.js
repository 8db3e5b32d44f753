// The store manager's page: pick a series, read its forecast and the order to place, send new
// sales and follow their training until the new model serves.
import { ApiError, apiKey, call, putFile, query } from "./api.js";
import { ForecastChart, chartData } from "./chart.js";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
const num = (v, digits = 1) => (v == null ? "–" : Number(v).toLocaleString(undefined, { maximumFractionDigits: digits }));
const size = (b) => (b >= 1e9 ? `${num(b / 1e9)} GB` : b >= 1e6 ? `${num(b / 1e6)} MB` : b >= 1e3 ? `${num(b / 1e3)} kB` : `${num(b, 0)} bytes`);

// shardReport says what a merge did to a dataset of several shards: the shards it rewrote (all of
// them after a resharding, whose touched list is absent), the parts and bytes it wrote.
function shardReport(m) {
  const touched = m.resharded_from
    ? `resharded from ${num(m.resharded_from, 0)} into ${num(m.shards, 0)} shards`
    : `${num(m.touched ? m.touched.length : m.shards, 0)} of ${num(m.shards, 0)} shards touched`;
  return `Dataset: ${touched}; ${num(m.parts_written, 0)} ${m.parts_written === 1 ? "part" : "parts"} written (${size(m.bytes_written || 0)}).`;
}
const pct = (v) => (v == null ? "–" : `${num(100 * v, 1)}%`);

const PAGE_SIZE = 12;
const HISTORY_DAYS = 180;
const POLL_MS = 1000;

const state = {
  kind: "product",
  search: "",
  offset: 0,
  total: 0,
  selected: null, // {kind, name, label}
  modelVersion: "",
  chart: null,
  forecastSeq: 0,
};

// ---- API key (AWS) -------------------------------------------------------------------------

let keyWaiters = [];
function askForKey(message) {
  const dialog = $("key-dialog");
  $("key-error").hidden = !message;
  $("key-error").textContent = message || "";
  $("key-input").value = apiKey.get();
  if (!dialog.open) dialog.showModal();
  return new Promise((resolve, reject) => keyWaiters.push({ resolve, reject }));
}
$("key-form").addEventListener("submit", () => {
  apiKey.set($("key-input").value.trim());
  $("key-button").hidden = false;
  keyWaiters.splice(0).forEach((w) => w.resolve());
});
$("key-cancel").addEventListener("click", () => $("key-dialog").close());
// Closed without a key (Cancel, Escape): the calls that asked for it fail, shown where they were made.
$("key-dialog").addEventListener("close", () => {
  keyWaiters.splice(0).forEach((w) => w.reject(new Error("The API needs its key (API key, top right).")));
});
$("key-button").addEventListener("click", () => askForKey().then(refreshAll, () => {}));
$("key-button").hidden = !apiKey.get();

/** api calls the API, asking for the key once when API Gateway wants one. */
async function api(path, options) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(path, options);
    } catch (err) {
      if (err instanceof ApiError && err.needsKey && attempt < 3) {
        await askForKey(apiKey.get() ? "The API refused this key. Check it and try again." : "");
        continue;
      }
      throw err;
    }
  }
}

// ---- Model status ----------------------------------------------------------------------------

async function refreshHealth() {
  try {
    const h = await api("health");
    if (h.status !== "ok" || !h.model) {
      $("model-status").textContent = h.message || "No model yet: send a CSV of sales below.";
      return null;
    }
    state.modelVersion = h.model.model_version;
    $("model-status").textContent = `Model ${h.model.model_version} · trained through ${h.model.trained_through} · ${num(h.model.dataset_rows, 0)} sales rows`;
    $("model-status").dataset.modelVersion = h.model.model_version;
    return h.model.model_version;
  } catch (err) {
    $("model-status").textContent = `API not reachable: ${err.message}`;
    return null;
  }
}

// ---- Series list -----------------------------------------------------------------------------

async function refreshSeries() {
  const list = $("series-list");
  try {
    const page = await api("series" + query({ kind: state.kind, q: state.search, limit: PAGE_SIZE, offset: state.offset }));
    state.total = page.total;
    list.replaceChildren();
    if (!page.series.length) {
      list.append(el("li", { class: "empty" }, state.search ? `Nothing matches “${state.search}”.` : "No series yet."));
    }
    for (const s of page.series) {
      const selected = state.selected && state.selected.kind === s.kind && state.selected.name === s.name;
      const label = s.kind === "total" ? "All stores" : s.name;
      const meta = [`${num(s.days_with_data, 0)} days of sales, ${s.first_date} to ${s.last_date}`];
      if (s.model) meta.push(`model: ${s.model}`);
      const sel = s.selection || {};
      const acc = accuracyText(sel.backtest);
      if (acc) meta.push(acc);
      else if (sel.source === "not_backtested") meta.push("too short to backtest");
      else if (sel.source === "backtested_on_demand") meta.push("backtested at its first forecast");
      list.append(
        el("li", {
          role: "option",
          "aria-selected": selected ? "true" : "false",
          "data-key": s.key,
          onclick: () => select({ kind: s.kind, name: s.name, label }),
        }, el("span", {}, label), el("span", { class: "meta" }, meta.join(" · "))),
      );
    }
    const last = Math.min(state.offset + page.series.length, page.total);
    $("page-info").textContent = page.total ? `${state.offset + 1}–${last} of ${page.total}` : "";
    $("prev-page").disabled = state.offset === 0;
    $("next-page").disabled = page.next_offset == null;
    if (!state.selected && page.series.length) select({ kind: page.series[0].kind, name: page.series[0].name, label: page.series[0].kind === "total" ? "All stores" : page.series[0].name });
  } catch (err) {
    list.replaceChildren(el("li", { class: "empty" }, err.status === 503 ? "No model yet: send a CSV of sales below." : `Cannot list series: ${err.message}`));
  }
}

function select(s) {
  state.selected = s;
  for (const li of $("series-list").children) {
    li.setAttribute("aria-selected", li.dataset.key === (s.kind === "total" ? "total" : `${s.kind}/${s.name}`) ? "true" : "false");
  }
  refreshForecast();
}

let searchTimer;
$("search").addEventListener("input", (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.search = e.target.value.trim();
    state.offset = 0;
    refreshSeries();
  }, 200);
});
$("kind").addEventListener("change", (e) => {
  state.kind = e.target.value;
  state.offset = 0;
  state.selected = null;
  refreshSeries();
});
$("prev-page").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - PAGE_SIZE);
  refreshSeries();
});
$("next-page").addEventListener("click", () => {
  state.offset += PAGE_SIZE;
  refreshSeries();
});

// ---- Forecast and policy ---------------------------------------------------------------------

/** params are the request's parameters: the series, the filters and the settings. */
function params() {
  const p = {};
  const s = state.selected;
  if (s && s.kind === "product") p.product_id = s.name;
  if (s && s.kind === "category") p.category = s.name;
  if (s && s.kind === "region") p.region = s.name;
  for (const id of ["min_rating", "max_price", "min_discount", "days", "lead_time_days", "service_level", "on_hand"]) {
    p[id] = $(id).value.trim();
  }
  return p;
}

function accuracyText(acc) {
  if (!acc) return "";
  const parts = [];
  if (acc.mase != null) parts.push(`MASE ${num(acc.mase, 2)}`);
  if (acc.wape != null) parts.push(`WAPE ${pct(acc.wape)}`);
  if (acc.coverage != null) parts.push(`interval coverage ${pct(acc.coverage)}`);
  if (!parts.length && acc.mae != null) parts.push(`MAE ${num(acc.mae, 2)}`);
  return parts.length ? `backtest ${parts.join(", ")}` : "";
}

function servedBy(resp) {
  const box = $("served-by");
  box.replaceChildren();
  // The models that served with their weights (resp.served); older APIs give only the blend's weights.
  const served = resp.served && resp.served.length
    ? resp.served.filter((m) => m.weight > 0).map((m) => `${m.model} ${Math.round(100 * m.weight)}%`)
    : Object.entries(resp.weights || {}).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${Math.round(100 * v)}%`);
  const how = resp.selection ? `${resp.model}, the backtests' choice: ${resp.selection.choice}` : resp.model;
  box.append(el("p", {}, el("strong", {}, "Served by: "), `${how}${served.length ? ` (${served.join(" + ")})` : ""}, model version `,
    el("span", { id: "served-version" }, resp.model_version), `, trained through ${resp.trained_through}.`));
  const acc = (resp.selection && resp.selection.backtest) || (resp.served && resp.served.length === 1 && resp.served[0].backtest) || resp.accuracy;
  if (acc) {
    box.append(el("p", { id: "backtest" }, el("strong", {}, "How accurate it was in backtests: "),
      accuracyText(acc).replace(/^backtest /, "") || "not measured for this series",
      "."));
  } else {
    box.append(el("p", { class: "hint" }, "No backtest accuracy is recorded for this series in this model version."));
  }
}

function showPolicy(resp) {
  const p = resp.policy;
  const dl = $("policy");
  dl.replaceChildren();
  const row = (label, value, explain, cls) => {
    dl.append(el("dt", {}, label), el("dd", { class: cls || "", "data-field": label }, value));
    if (explain) dl.append(el("p", { class: "explain" }, explain));
  };
  if (p.on_hand != null) {
    row("Order now", `${num(p.order_quantity, 0)} units`, `Brings stock up to the maximum level of ${num(p.max_level)} units.`, "big");
    row("Days of cover", num(p.days_of_cover), `How long ${num(p.on_hand, 0)} units last at ${num(p.mean_daily_demand)} units a day.`);
  }
  row("Reorder point", num(p.reorder_point), `Order when stock falls to this: expected sales over the ${p.lead_time_days}-day lead time (${num(p.lead_time_demand)}) plus safety stock.`);
  row("Safety stock", num(p.safety_stock), `Kept for a ${pct(p.service_level)} chance of no stock-out over the lead time.`);
  row("Minimum level", num(p.min_level));
  row("Maximum level", num(p.max_level), `Reorder point plus ${p.review_days} days of sales.`);
  row("Expected sales per day", num(p.mean_daily_demand));

  const box = $("warnings");
  box.replaceChildren();
  const titles = { stockout_risk: "Stock-out risk", reorder_now: "Reorder now", healthy: "Stock is fine" };
  if (!resp.warnings.length) {
    box.append(el("p", { class: "hint" }, "Enter the stock on hand to see what to order."));
  }
  for (const w of resp.warnings) {
    box.append(el("div", { class: `warning ${w.code}`, "data-code": w.code }, el("strong", {}, titles[w.code] || w.code), w.message));
  }
}

async function refreshForecast() {
  const s = state.selected;
  if (!s) return;
  const seq = ++state.forecastSeq;
  const p = params();
  $("forecast-error").hidden = true;
  try {
    const [resp, history] = await Promise.all([
      api("forecast" + query(p)),
      api("series/history" + query({ ...p, days: HISTORY_DAYS, lead_time_days: undefined, service_level: undefined, on_hand: undefined })),
    ]);
    if (seq !== state.forecastSeq) return; // a newer request is on its way
    const summary = $("forecast-summary");
    const total = resp.days.reduce((a, d) => a + d.forecast, 0);
    summary.textContent = `${s.label}: about ${num(total, 0)} units over the next ${resp.days.length} days (${resp.days[0].date} to ${resp.days[resp.days.length - 1].date}).`;
    summary.dataset.modelVersion = resp.model_version;
    summary.dataset.series = resp.series.key;
    const band = resp.interval_width ? `${Math.round(100 * resp.interval_width)}% interval` : "interval";
    state.chart.show(chartData(history, resp.days), band);
    servedBy(resp);
    $("notes").replaceChildren(...resp.notes.map((n) => el("li", { "data-code": n.code }, n.message)));
    showPolicy(resp);
  } catch (err) {
    if (seq !== state.forecastSeq) return;
    $("forecast-error").hidden = false;
    $("forecast-error").textContent = err.message;
  }
}

let settingsTimer;
for (const id of ["min_rating", "max_price", "min_discount", "days", "lead_time_days", "service_level", "on_hand"]) {
  $(id).addEventListener("input", () => {
    clearTimeout(settingsTimer);
    settingsTimer = setTimeout(refreshForecast, 250);
  });
}

// ---- Uploads and jobs ------------------------------------------------------------------------

const STEPS = [
  ["upload", "Upload"],
  ["merge", "Check and merge"],
  ["train", "Train"],
  ["publish", "Publish"],
  ["serve", "Serving"],
];

function stepState(job, served) {
  const at = { upload: 0, merge: 1, train: 2, refit: 2, finetune: 2, publish: 3 }[job ? job.stage : "upload"] ?? 1;
  const failed = job && ["rejected", "failed"].includes(job.status);
  const finished = job && ["succeeded", "unchanged", "superseded"].includes(job.status);
  return STEPS.map(([id], i) => {
    if (finished) return job.status === "succeeded" && !served && id === "serve" ? "active" : job.status === "unchanged" && i > 1 ? "" : "done";
    if (failed) return i < at ? "done" : i === at ? "failed" : "";
    return i < at ? "done" : i === at ? "active" : "";
  });
}

function renderJob(name, job, served) {
  $("job").hidden = false;
  $("job").dataset.status = job ? job.status : "waiting";
  const titles = {
    waiting: `${name}: uploaded, waiting to be picked up…`,
    running: `${name}: checking and merging…`,
    training: `${name}: training the new model…`,
    succeeded: served ? `${name}: done — the new model is serving` : `${name}: published, loading the new model…`,
    unchanged: `${name}: nothing new — every row was already there`,
    rejected: `${name}: refused — nothing was changed`,
    failed: `${name}: training failed — the previous model keeps serving`,
    superseded: `${name}: done — a newer upload's model, which includes these rows, is serving`,
  };
  $("job-title").textContent = titles[job ? job.status : "waiting"] || `${name}: ${job.status}`;
  const states = stepState(job, served);
  $("job-steps").replaceChildren(...STEPS.map(([id, label], i) => el("li", { class: states[i], "data-step": id }, label)));

  const detail = $("job-detail");
  detail.replaceChildren();
  if (!job) return;
  if (job.merge) {
    const m = job.merge;
    const cols = m.new_columns && m.new_columns.length ? `; new columns: ${m.new_columns.join(", ")}` : "";
    detail.append(el("p", { id: "merge-report" }, `Merged ${num(m.upload_rows, 0)} rows (${m.first_date} to ${m.last_date}): ${num(m.inserted, 0)} new, ${num(m.replaced, 0)} replaced; the dataset has ${num(m.rows_after, 0)} rows${cols}.`));
    if (m.shards > 1) detail.append(el("p", { id: "merge-shards" }, shardReport(m)));
  }
  if (job.refit) {
    detail.append(el("p", {}, `Trend models: ${job.refit.status}${job.refit.series ? `, ${num(job.refit.series, 0)} series` : ""}${job.refit.fallbacks ? ` (${num(job.refit.fallbacks, 0)} could not be fitted)` : ""}.`));
  }
  const ft = job.finetune;
  if (ft) {
    const epochs = ft.epochs ? ` epoch ${ft.epoch}/${ft.epochs}` : "";
    const loss = ft.loss ? `, loss ${ft.loss.toPrecision(3)}` : "";
    detail.append(el("p", { id: "finetune-progress" }, `LSTM (${ft.mode || "training"}): ${ft.status}${epochs}${loss}.`));
    if (ft.epochs) detail.append(el("progress", { max: String(ft.epochs), value: String(ft.epoch) }));
  }
  if (job.publish && job.publish.version) {
    detail.append(el("p", {}, `Model version ${job.publish.version}: ${job.publish.status}.`));
  }
  if (job.status === "rejected") {
    const r = job.rejection;
    detail.append(el("p", { class: "error" }, job.error || "The file was refused."));
    if (r && r.problems && r.problems.length) {
      detail.append(el("p", {}, `Fix ${r.total_problems === 1 ? "this line" : `these ${r.total_problems} problems`} in the file and upload it again${r.total_problems > r.problems.length ? ` (the first ${r.problems.length} are listed)` : ""}:`));
      detail.append(el("table", { class: "problems", id: "problems" },
        el("thead", {}, el("tr", {}, el("th", {}, "Line"), el("th", {}, "Column"), el("th", {}, "Value"), el("th", {}, "What is wrong"))),
        el("tbody", {}, ...r.problems.map((p) => el("tr", {}, el("td", {}, p.line ? String(p.line) : "–"), el("td", {}, p.column || "–"), el("td", {}, p.value == null ? "" : JSON.stringify(p.value)), el("td", {}, p.reason)))),
      ));
    }
  } else if (job.error) {
    detail.append(el("p", { class: "error" }, job.error));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** follow polls a job until it ends, and then until its model version serves. */
async function follow(name, jobID) {
  const servedBefore = state.modelVersion;
  let job = null;
  for (;;) {
    try {
      job = await api(`jobs/${encodeURIComponent(jobID)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
      job = null; // the merge has not picked the file up yet
    }
    const ended = job && ["succeeded", "unchanged", "rejected", "failed", "superseded"].includes(job.status);
    if (!ended) {
      renderJob(name, job, false);
      await sleep(POLL_MS);
      continue;
    }
    if (job.status !== "succeeded") {
      renderJob(name, job, true);
      refreshJobs();
      if (job.status === "superseded") refreshAll();
      return job;
    }
    renderJob(name, job, false);
    // The API loads a newly published model on its next request; a newer upload's model may
    // have replaced this one already.
    for (;;) {
      const version = await refreshHealth();
      if (version && (version === job.publish.version || version !== servedBefore)) break;
      await sleep(POLL_MS);
    }
    renderJob(name, job, true);
    refreshJobs();
    await refreshAll();
    return job;
  }
}

$("upload-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  const button = $("upload-button");
  button.disabled = true;
  $("job").hidden = false;
  $("job").dataset.status = "uploading";
  $("job-title").textContent = `${file.name}: uploading…`;
  $("job-steps").replaceChildren();
  $("job-detail").replaceChildren();
  try {
    const grant = await api("uploads", { method: "POST", body: { name: file.name, size: file.size, content_type: "text/csv" } });
    await putFile(grant.upload, file);
    await follow(file.name, grant.job_id);
  } catch (err) {
    $("job").dataset.status = "error";
    $("job-title").textContent = `${file.name}: ${err.message}`;
  } finally {
    button.disabled = false;
  }
});

async function refreshJobs() {
  try {
    const page = await api("jobs" + query({ limit: 10 }));
    $("jobs-body").replaceChildren(...page.jobs.map((j) => el("tr", {},
      el("td", {}, (j.upload && j.upload.key ? j.upload.key.replace(/^uploads\//, "") : j.id)),
      el("td", { class: `status-${j.status}` }, j.status),
      el("td", {}, j.stage || ""),
      el("td", {}, new Date(j.updated).toLocaleString()))));
  } catch {
    // the list is a convenience; the job being followed shows its own errors
  }
}

// ---- Start -----------------------------------------------------------------------------------

async function refreshAll() {
  await refreshHealth();
  await refreshSeries();
  await refreshForecast();
}

if (!location.pathname.endsWith("/")) {
  // API Gateway serves the page at /<stage> too; its API paths are relative to /<stage>/.
  location.replace(location.pathname + "/" + location.search);
} else {
  state.chart = new ForecastChart($("chart"));
  refreshHealth().then(() => {
    refreshSeries();
    refreshJobs();
  });
}
