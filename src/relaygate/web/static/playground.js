// relaygate playground: plain JavaScript, no build step.
// Talks to the gateway it is served by: GET /v1/models, GET /api/tools, /api/sessions,
// and the WebSocket chat at /ws/chat/{conversation}.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { ws: null, conversation: null, bubbles: new Map(), models: [] };

function apiKey() { return $("key").value.trim(); }

function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (body.error && body.error.message) || `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

function setStatus(kind, text) {
  $("status").dataset.state = kind;
  $("status").querySelector("span").textContent = text;
}

function scrollDown() { const log = $("log"); log.scrollTop = log.scrollHeight; }

function add(kind, text, who) {
  const div = document.createElement("div");
  div.className = `msg ${kind}`;
  if (who) {
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who;
    div.appendChild(label);
  }
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  div.appendChild(body);
  $("log").appendChild(div);
  scrollDown();
  return div;
}

function addTool(kind, text, isError) {
  const div = document.createElement("div");
  div.className = `tool ${kind}${isError ? " error" : ""}`;
  div.textContent = text;
  $("log").appendChild(div);
  scrollDown();
  return div;
}

function agentBubble(turnId) {
  let bubble = state.bubbles.get(turnId);
  if (!bubble) {
    bubble = add("agent streaming", "", "agent");
    state.bubbles.set(turnId, bubble);
  }
  return bubble;
}

function show(value) { return typeof value === "string" ? value : JSON.stringify(value); }

function handle(event) {
  switch (event.type) {
    case "ping":
      send({ type: "pong" });
      break;
    case "user_message":
      add("other", event.content, event.participant);
      break;
    case "typing_indicator":
      if (event.participant === "agent") $("typing").hidden = !event.typing;
      break;
    case "agent_response_chunk": {
      const text = agentBubble(event.turn_id).querySelector(".text");
      text.textContent += event.text;
      scrollDown();
      break;
    }
    case "tool_call": {
      const before = state.bubbles.get(event.turn_id);  // text said before the call, if any
      if (before) {
        before.classList.remove("streaming");
        if (!before.querySelector(".text").textContent) before.remove();
        state.bubbles.delete(event.turn_id);
      }
      addTool("call", `→ ${event.name}(${show(event.arguments)})`);
      break;
    }
    case "tool_result":
      addTool("result", `← ${event.name}: ${show(event.output)}`, event.is_error);
      state.bubbles.delete(event.turn_id);  // the answer after the tool gets its own bubble
      break;
    case "agent_response_complete": {
      const bubble = agentBubble(event.turn_id);
      bubble.classList.remove("streaming");
      const text = bubble.querySelector(".text");
      if (!text.textContent) text.textContent = event.message.content;
      const usage = document.createElement("span");
      usage.className = "usage";
      const u = event.usage || {};
      usage.textContent = `${u.input_tokens || 0} in · ${u.output_tokens || 0} out tokens`;
      bubble.appendChild(usage);
      state.bubbles.delete(event.turn_id);
      loadSessions();
      break;
    }
    case "error":
      add("error", `${event.code}: ${event.message}`);
      break;
    default:
      break;
  }
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function connect(conversation) {
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  state.conversation = conversation;
  state.bubbles.clear();
  $("conversation").textContent = `conversation ${conversation}`;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const params = new URLSearchParams({ participant: "playground" });
  if (apiKey()) params.set("api_key", apiKey());
  const url = `${scheme}://${location.host}/ws/chat/${encodeURIComponent(conversation)}?${params}`;
  setStatus("connecting", "connecting…");
  const ws = new WebSocket(url);
  state.ws = ws;
  return new Promise((resolve) => {
    ws.onopen = () => { setStatus("connected", "connected"); resolve(true); };
    ws.onmessage = (message) => handle(JSON.parse(message.data));
    ws.onclose = (closed) => {
      const why = closed.code === 4401 ? "bad API key" : closed.reason || "closed";
      setStatus("closed", `disconnected (${closed.code} ${why})`);
      resolve(false);
    };
  });
}

function chosenTools() {
  return [...document.querySelectorAll("#tools input:checked")].map((box) => box.value);
}

async function newConversation() {
  const model = $("model").value;
  const session = await api("/api/sessions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      model,
      tools: chosenTools(),
      allowed_models: state.models.filter((name) => name !== model),
      metadata: { source: "playground" },
    }),
  });
  $("log").replaceChildren();
  await connect(session.id);
  loadSessions();
  return session.id;
}

async function join(sessionId) {
  $("log").replaceChildren();
  const history = await api(`/api/sessions/${sessionId}/messages?limit=100`);
  for (const message of history.data) {
    const text = typeof message.content === "string" ? message.content : show(message.content);
    if (message.role === "user") add("user", text, "you");
    else if (message.role === "assistant" && text) add("agent", text, "agent");
    else if (message.role === "tool") addTool("result", `← ${message.name}: ${text}`);
  }
  await connect(sessionId);
  loadSessions();
}

async function submit(event) {
  event.preventDefault();
  const content = $("message").value.trim();
  if (!content) return;
  try {
    // a dropped connection rejoins its conversation; only without one does a new one start
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
      if (!(state.conversation && await connect(state.conversation))) await newConversation();
    }
  } catch (error) {
    add("error", `could not start a conversation: ${error.message}`);
    return;
  }
  add("user", content, "you");
  send({ type: "user_message", content, model: $("model").value, tools: chosenTools() });
  $("message").value = "";
}

async function loadModels() {
  try {
    const models = await api("/v1/models");
    state.models = models.data.map((model) => model.id);
    const select = $("model");
    const previous = select.value;
    select.replaceChildren(...state.models.map((name) => new Option(name, name)));
    if (state.models.includes(previous)) select.value = previous;
  } catch (error) {
    setStatus("closed", `models: ${error.message}`);
  }
}

async function loadTools() {
  const box = $("tools");
  try {
    const listed = await api("/api/tools");
    box.replaceChildren(...listed.tools.map((tool) => {
      const label = document.createElement("label");
      const check = document.createElement("input");
      check.type = "checkbox";
      check.value = tool.name;
      check.checked = tool.name === "calculator";
      label.title = tool.description || "";
      label.append(check, tool.name);
      return label;
    }));
    if (!listed.tools.length) box.textContent = "no tools";
  } catch (error) {
    box.textContent = `tools: ${error.message}`;
  }
}

async function loadSessions() {
  const list = $("sessions");
  try {
    const sessions = await api("/api/sessions?limit=20&order=desc");
    list.replaceChildren(...sessions.data.map((session) => {
      const item = document.createElement("li");
      if (session.id === state.conversation) item.className = "active";
      const usage = session.usage || {};
      item.innerHTML = '<div class="sid"></div><div class="model"></div><div class="usage"></div>';
      item.querySelector(".sid").textContent = session.id;
      item.querySelector(".model").textContent = `${session.model} · ${session.message_count} messages`;
      item.querySelector(".usage").textContent =
        `${usage.total_tokens || 0} tokens (${usage.input_tokens || 0} in, ${usage.output_tokens || 0} out)`;
      item.onclick = () => join(session.id);
      return item;
    }));
  } catch (error) {
    list.textContent = `sessions: ${error.message}`;
  }
}

function reloadAll() {
  localStorage.setItem("relaygate.key", apiKey());
  loadModels();
  loadTools();
  loadSessions();
}

$("key").value = localStorage.getItem("relaygate.key") || "";
$("key").addEventListener("change", reloadAll);
$("new").addEventListener("click", () => newConversation().catch((error) => add("error", error.message)));
$("refresh").addEventListener("click", loadSessions);
$("composer").addEventListener("submit", submit);
$("message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
});
reloadAll();
