// relaygate admin page: plain JavaScript, no build step, no external assets.
// Everything it shows comes from the admin API (/admin/keys, /admin/tenants, /admin/prompts, /admin/usage),
// called with the admin key the user signs in with (kept in sessionStorage, sent as Bearer).
"use strict";

const $ = (id) => document.getElementById(id);
const STORED_KEY = "relaygate.adminKey";
const SVG = "http://www.w3.org/2000/svg";

function adminKey() { return sessionStorage.getItem(STORED_KEY) || ""; }

async function api(path, options = {}, key = adminKey()) {
  const headers = { Authorization: `Bearer ${key}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET", headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

async function every(path) {
  const items = [];
  let after = null;
  for (;;) {
    const query = `limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`;
    const page = await api(`${path}${path.includes("?") ? "&" : "?"}${query}`);
    items.push(...(page.data || []));
    if (!page.has_more || !page.last_id) return items;
    after = page.last_id;
  }
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value; else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function show(node, visible) { node.hidden = !visible; }

function notice(message) {
  $("notice").textContent = message || "";
  show($("notice"), Boolean(message));
}

function names(list, none = "all") { return list && list.length ? list.join(", ") : none; }

function list(value) {
  const items = value.split(",").map((item) => item.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

function day(seconds) { return seconds ? new Date(seconds * 1000).toISOString().slice(0, 10) : "–"; }

// --- budget bars: the cap, and how much of it is spent when the API says (`spend`)

function budgetBar(budget, spend) {
  if (!budget) return el("span", { class: "dim", text: "none" });
  const period = budget.period || "month";
  const mode = budget.mode || "hard";
  const caps = [];
  if (budget.max_usd != null) caps.push(["usd", budget.max_usd, (v) => `$${v.toFixed(2)}`]);
  if (budget.max_tokens != null) caps.push(["tokens", budget.max_tokens, (v) => `${v} tokens`]);
  const bar = el("div", { class: "bar" });
  for (const [unit, cap, shown] of caps) {
    const spent = spend && spend[unit] != null ? spend[unit] : null;
    const share = spent == null ? 0 : Math.min(spent / cap, 1);
    const fill = el("div", { class: `fill${share >= 1 ? " over" : share >= 0.8 ? " warn" : ""}` });
    fill.style.width = `${(share * 100).toFixed(1)}%`;
    const text = spent == null ? `cap ${shown(cap)} / ${period} (${mode})`
      : `${shown(spent)} of ${shown(cap)} / ${period} (${mode}) · ${Math.round(100 * spent / cap)}%`;
    bar.append(el("div", { class: "track", title: text }, fill), el("div", { class: "label", text }));
  }
  return bar;
}

// --- tenants

async function loadTenants() {
  const tenants = await every("/admin/tenants");
  $("tenants").replaceChildren(...tenants.map((tenant) => el("tr", { "data-tenant": tenant.name },
    el("td", { text: tenant.name }), el("td", { text: names(tenant.models) }),
    el("td", {}, budgetBar(tenant.budget, tenant.spend)), el("td", { text: day(tenant.created_at) }))));
  const chosen = $("key-tenant").value;
  $("key-tenant").replaceChildren(...tenants.map((tenant) => el("option", { value: tenant.name, text: tenant.name })));
  if (tenants.some((tenant) => tenant.name === chosen)) $("key-tenant").value = chosen;
}

function budgetFrom(prefix) {
  const usd = $(`${prefix}-budget`).value;
  if (!usd) return undefined;
  return { max_usd: Number(usd), period: $(`${prefix}-period`).value, mode: $(`${prefix}-mode`).value };
}

async function createTenant(event) {
  event.preventDefault();
  const name = $("tenant-name").value.trim();
  await act(async () => {
    await api("/admin/tenants", { method: "POST", body: {
      name, models: list($("tenant-models").value), budget: budgetFrom("tenant") } });
    $("tenant-form").reset();
    await loadTenants();
    $("key-tenant").value = name;
  });
}

// --- keys

async function loadKeys() {
  const keys = await every("/admin/keys");
  $("keys").replaceChildren(...keys.map((key) => {
    const revoke = el("button", { type: "button", class: "danger revoke", text: "Revoke" });
    revoke.addEventListener("click", () => revokeKey(key));
    return el("tr", { "data-key": key.id },
      el("td", { text: key.name || key.id }), el("td", { text: key.tenant }),
      el("td", {}, el("code", { text: `${key.prefix}…` })),
      el("td", { class: `status status-${key.status}`, text: key.status }),
      el("td", { text: names(key.models, "the tenant's") }), el("td", {}, budgetBar(key.budget, key.spend)),
      el("td", {}, key.status === "revoked" ? "" : revoke));
  }));
}

async function createKey(event) {
  event.preventDefault();
  await act(async () => {
    const key = await api("/admin/keys", { method: "POST", body: {
      tenant: $("key-tenant").value, name: $("key-name").value.trim() || undefined,
      models: list($("key-models").value), budget: budgetFrom("key") } });
    $("key-form").reset();
    await loadTenants();
    showSecret(key);
    await loadKeys();
  });
}

async function revokeKey(key) {
  if (!window.confirm(`Revoke ${key.name || key.id} (${key.prefix}…)? Calls with it are refused from now on.`)) return;
  await act(async () => {
    await api(`/admin/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
    await loadKeys();
  });
}

function showSecret(key) {
  $("secret-key-id").textContent = `${key.name || ""} ${key.id}`.trim();
  $("secret-value").textContent = key.key;
  $("secret-copy").textContent = "Copy";
  show($("secret-box"), true);
}

function dismissSecret() {
  $("secret-value").textContent = "";  // gone from the page: it is not shown again
  show($("secret-box"), false);
}

async function copySecret() {
  const secret = $("secret-value").textContent;
  try {
    await navigator.clipboard.writeText(secret);
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("secret-value"));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    document.execCommand("copy");
  }
  $("secret-copy").textContent = "Copied";
}

// --- usage charts (inline SVG)

// The one place that reads GET /admin/usage's shape.
function usageRows(answer) {
  return (answer.data || []).map((row) => ({
    group: String(row.group), requests: row.requests || 0,
    inputTokens: row.input_tokens || 0, outputTokens: row.output_tokens || 0,
    cost: row.cost_usd == null ? null : Number(row.cost_usd),
  }));
}

function measure(rows) {
  const priced = rows.some((row) => row.cost != null);
  return priced ? { value: (row) => row.cost || 0, shown: (v) => `$${v.toFixed(v < 1 ? 4 : 2)}` }
    : { value: (row) => row.requests, shown: (v) => `${v} req` };
}

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function columnChart(rows) {  // by day: a column a day, in order
  const width = 520, height = 200, bottom = 24, top = 16;
  const { value, shown } = measure(rows);
  const highest = Math.max(...rows.map(value), 0) || 1;
  const step = width / Math.max(rows.length, 1);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "usage by day" });
  rows.forEach((row, index) => {
    const tall = ((height - bottom - top) * value(row)) / highest;
    const x = index * step + step * 0.15;
    const bar = svg("rect", { class: "bar-day", x, y: height - bottom - tall, width: step * 0.7, height: Math.max(tall, 1) });
    bar.append(svg("title", {}, `${row.group}: ${shown(value(row))}, ${row.requests} requests`));
    chart.append(bar, svg("text", { x: x + step * 0.35, y: height - 8, "text-anchor": "middle" }, row.group.slice(5)));
    if (rows.length <= 14) chart.append(svg("text", { x: x + step * 0.35, y: height - bottom - tall - 4, "text-anchor": "middle" }, shown(value(row))));
  });
  return chart;
}

function barChart(rows) {  // by model: a row a model, the largest first
  const sorted = [...rows].sort((a, b) => measure(rows).value(b) - measure(rows).value(a));
  const { value, shown } = measure(rows);
  const width = 520, line = 26, left = 140, right = 80;
  const highest = Math.max(...sorted.map(value), 0) || 1;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${Math.max(sorted.length, 1) * line + 8}`, role: "img", "aria-label": "usage by model" });
  sorted.forEach((row, index) => {
    const y = index * line + 4;
    const long = ((width - left - right) * value(row)) / highest;
    const bar = svg("rect", { class: "bar-model", x: left, y, width: Math.max(long, 1), height: line - 8 });
    bar.append(svg("title", {}, `${row.group}: ${shown(value(row))}, ${row.requests} requests`));
    chart.append(svg("text", { x: left - 8, y: y + line / 2, "text-anchor": "end" }, row.group), bar,
      svg("text", { x: left + long + 6, y: y + line / 2 }, shown(value(row))));
  });
  return chart;
}

async function loadUsage() {
  try {
    const [byDay, byModel] = await Promise.all([
      api("/admin/usage?group_by=day"), api("/admin/usage?group_by=model")]);
    const days = usageRows(byDay).sort((a, b) => a.group.localeCompare(b.group));
    const models = usageRows(byModel);
    $("chart-day").replaceChildren(days.length ? columnChart(days) : el("p", { class: "dim", text: "no calls yet" }));
    $("chart-model").replaceChildren(models.length ? barChart(models) : el("p", { class: "dim", text: "no calls yet" }));
    show($("usage-note"), false);
    show($("charts"), true);
  } catch (error) {
    $("usage-note").textContent = `Usage is not available: ${error.message}`;
    show($("usage-note"), true);
    show($("charts"), false);
  }
}

// --- prompt templates (create and change them with `relaygate prompts` or the API)

function splitText(split) {
  return Object.entries(split).map(([version, weight]) => `${version}:${weight}`).join("/");
}

async function loadPrompts() {
  try {
    const prompts = await every("/admin/prompts");
    $("prompts").replaceChildren(...prompts.map((prompt) => el("tr", { "data-prompt": prompt.id },
      el("td", { text: prompt.name }), el("td", { text: prompt.id }),
      el("td", { text: prompt.latest_version }),
      el("td", { text: Object.entries(prompt.labels).map(([label, split]) =>
        `${label}=${splitText(split)}`).join(", ") || "—" }),
      el("td", { text: prompt.tenant || "all" }), el("td", { text: day(prompt.updated_at) }))));
    $("prompts-note").textContent = prompts.length ? "" : "No prompt templates yet.";
    show($("prompts-note"), !prompts.length);
  } catch (error) {
    $("prompts").replaceChildren();
    $("prompts-note").textContent = `Prompt templates are not available: ${error.message}`;
    show($("prompts-note"), true);
  }
}

// --- signing in

async function act(work) {
  notice("");
  try {
    await work();
  } catch (error) {
    if (error.status === 401) { signOut(`Signed out: ${error.message}`); return; }
    notice(error.message);
  }
}

function signInMessage(error) {
  if (error.status === 401) return `Wrong admin key: ${error.message}`;
  if (error.status === 404) return error.message;  // the admin API is off, and how to turn it on
  return `Cannot reach the admin API: ${error.message}`;
}

async function signIn(key) {
  try {
    await api("/admin/tenants?limit=1", {}, key);
  } catch (error) {
    sessionStorage.removeItem(STORED_KEY);
    $("sign-in-error").textContent = signInMessage(error);
    show($("sign-in-error"), true);
    return;
  }
  sessionStorage.setItem(STORED_KEY, key);
  $("admin-key").value = "";
  show($("sign-in-error"), false);
  show($("sign-in"), false);
  show($("console"), true);
  show($("signed-in"), true);
  show($("sign-out"), true);
  await refresh();
}

function signOut(message) {
  sessionStorage.removeItem(STORED_KEY);
  dismissSecret();
  show($("console"), false);
  show($("signed-in"), false);
  show($("sign-out"), false);
  show($("sign-in"), true);
  $("sign-in-error").textContent = message || "";
  show($("sign-in-error"), Boolean(message));
}

async function refresh() {
  await act(async () => { await loadTenants(); await loadKeys(); });
  await Promise.all([loadPrompts(), loadUsage()]);
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("admin-key").value.trim());
});
$("sign-out").addEventListener("click", () => signOut());
$("refresh").addEventListener("click", refresh);
$("tenant-form").addEventListener("submit", createTenant);
$("key-form").addEventListener("submit", createKey);
$("secret-dismiss").addEventListener("click", dismissSecret);
$("secret-copy").addEventListener("click", copySecret);
if (adminKey()) signIn(adminKey());
