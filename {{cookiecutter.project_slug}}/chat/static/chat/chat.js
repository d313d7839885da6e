// The chat page's client: see chat/protocol.py for the frames.
// Reconnects with growing delays after the socket drops, and asks for every
// message after the last one it saw, so a reconnect loses nothing.
"use strict";

const socketUrl = JSON.parse(document.getElementById("socket-url").textContent);
const messages = document.getElementById("messages");
const users = document.getElementById("users");
const status = document.getElementById("status");
const errorLine = document.getElementById("error");
const form = document.getElementById("send");
const input = document.getElementById("text");
const yourName = document.getElementById("your-name").textContent;

// Close codes after which reconnecting cannot help: a bad room name, a members-only
// room, and a login that ended (logout, deactivation, password change).
const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403]);
const seenIds = new Set();
// Who is in the room: the "users" frame on connecting, then each "presence" frame.
const present = new Set();
let lastId = null;
let socket = null;
let retryDelay = 1000;

// Bidi controls would reorder the text after them ("invoice\u202efdp.exe" shows as
// "invoiceexe.pdf"): each is shown as a visible mark instead.
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function shown(text) {
  return text.replace(BIDI_CONTROLS, "\ufffd");
}

function addLine(build) {
  const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
  const line = document.createElement("li");
  build(line);
  messages.append(line);
  if (atBottom) messages.scrollTop = messages.scrollHeight;
}

function showMessage(message) {
  if (seenIds.has(message.id)) return;  // history and live delivery can overlap
  seenIds.add(message.id);
  lastId = Math.max(lastId ?? 0, message.id);
  addLine((line) => {
    const time = document.createElement("time");
    time.dateTime = message.timestamp;
    time.textContent = new Date(message.timestamp).toLocaleTimeString();
    const author = document.createElement("bdi");
    author.className = "author";
    author.textContent = shown(message.author);
    // <bdi>: right-to-left text keeps to its own element.
    const text = document.createElement("bdi");
    text.textContent = shown(message.text);
    line.append(time, author, text);
  });
}

function showNotice(text) {
  addLine((line) => {
    line.className = "notice";
    line.textContent = text;
  });
}

function showUsers() {
  users.replaceChildren(...[...present].sort().map((name) => {
    const item = document.createElement("li");
    item.textContent = name === yourName ? `${shown(name)} (you)` : shown(name);
    if (name === yourName) item.className = "you";
    return item;
  }));
}

function showError(text) {
  errorLine.textContent = text;
  errorLine.hidden = !text;
}

const handlers = {
  history: (frame) => frame.messages.forEach(showMessage),
  message: showMessage,
  users: (frame) => {
    present.clear();
    frame.users.forEach((name) => present.add(name));
    showUsers();
  },
  presence: (frame) => {
    if (frame.event === "joined") present.add(frame.user);
    else present.delete(frame.user);
    showUsers();
    showNotice(`${shown(frame.user)} ${frame.event === "joined" ? "joined" : "left"}`);
  },
  error: (frame) => showError(frame.message),
};

function connect() {
  const url = lastId === null ? socketUrl : `${socketUrl}?after=${lastId}`;
  socket = new WebSocket(url);
  socket.onopen = () => {
    status.textContent = "Connected";
    retryDelay = 1000;
  };
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    handlers[frame.type]?.(frame);
  };
  socket.onclose = (event) => {
    present.clear();
    showUsers();
    if (FINAL_CLOSE_CODES.has(event.code)) {
      status.textContent = "Disconnected";
      form.querySelector("button").disabled = true;
      return;
    }
    status.textContent = `Disconnected; retrying in ${retryDelay / 1000} s`;
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  };
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket?.readyState !== WebSocket.OPEN) {
    showError("Not connected yet; your message is still in the box.");
    return;
  }
  showError("");
  socket.send(JSON.stringify({type: "message", text: input.value}));
  input.value = "";
});

connect();
