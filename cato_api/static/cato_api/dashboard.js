// The built-in CATO dashboard: the snapshot over REST, the live feed over a websocket
// (the session cookie authenticates both). Plain JavaScript, nothing loaded from elsewhere.
"use strict";

const STATUSES = ["todo", "in_progress", "blocked", "completed", "failed"];
const MAX_EVENTS = 200;
let lastId = 0;
let eventCount = 0;
let refreshTimer = null;

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function statusBadge(status) {
  return element("span", { class: `status ${status}` }, status);
}

function render(snapshot) {
  const metrics = snapshot.metrics;
  const figures = {
    "m-agents": metrics.total_agents, "m-active": metrics.active_agents,
    "m-tasks": metrics.total_tasks, "m-completed": metrics.completed_tasks,
    "m-projects": metrics.total_projects, "m-features": metrics.total_features,
  };
  for (const [id, value] of Object.entries(figures)) document.getElementById(id).textContent = value;

  const body = document.querySelector("#agents tbody");
  body.replaceChildren(...snapshot.nodes.agents.map((agent) => {
    const row = element("tr", { "data-agent": agent.id });
    row.append(element("td", {}, agent.name), element("td", {}, agent.role));
    const status = element("td"); status.append(statusBadge(agent.status)); row.append(status);
    row.append(element("td", {}, agent.current_task_id || "–"), element("td", {}, String(agent.task_count)));
    return row;
  }));

  const board = document.getElementById("board");
  board.replaceChildren(...STATUSES.map((status) => {
    const column = element("div", { class: "column" });
    const tasks = snapshot.nodes.tasks.filter((task) => task.status === status);
    column.append(element("h3", {}, `${status.replace("_", " ")} (${tasks.length})`));
    for (const task of tasks.slice(0, 50)) {
      column.append(element("div", { class: "card", title: task.id }, task.name));
    }
    return column;
  }));
}

async function refresh() {
  const response = await fetch("/api/cato/snapshot", { credentials: "same-origin" });
  if (response.ok) render((await response.json()).snapshot);
}

function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 1000);
}

function showEvent(event) {
  const list = document.getElementById("events");
  const item = element("li", { "data-event-type": event.event_type });
  item.append(element("span", { class: "id" }, `#${event.id}`),
              element("span", { class: "type" }, event.event_type),
              document.createTextNode(summary(event)));
  list.prepend(item);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  eventCount += 1;
  document.getElementById("event-count").textContent = `${eventCount} events`;
}

function summary(event) {
  const data = event.event_data || {};
  const parts = [data.agent_name || data.agent_id, data.task_name || data.task_id,
                 data.status, data.milestone_type, data.name].filter(Boolean);
  return parts.join(" · ");
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const since = lastId ? `&since_id=${lastId}` : "";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/cato/events/?batch=1${since}`);
  const state = document.getElementById("feed-state");
  socket.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "connected") { state.textContent = "live"; state.className = "state live"; }
    const events = frame.type === "events" ? frame.events : frame.type === "event" ? [frame] : [];
    for (const event of events) { lastId = Math.max(lastId, event.id); showEvent(event); }
    if (frame.type === "overflow") lastId = frame.last_id;
    if (events.length) refreshSoon();
  };
  socket.onclose = () => {
    state.textContent = "reconnecting…"; state.className = "state down";
    setTimeout(connect, 2000);  // resumes after lastId: nothing is missed
  };
}

refresh();
connect();
