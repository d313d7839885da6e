// Shows a stream's notifications as they come: one long-poll at a time, each
// asking for everything after the last id seen, so nothing is missed between polls.
"use strict";

const pollUrl = JSON.parse(document.getElementById("poll-url").textContent);
const list = document.getElementById("notifications");
const status = document.getElementById("status");
let lastId = JSON.parse(document.getElementById("last-id").textContent);
let retryDelay = 1000;

function show(notification) {
  const item = document.createElement("li");
  const time = new Date(notification.created).toLocaleTimeString();
  const data = document.createElement("code");
  data.textContent = JSON.stringify(notification.data);
  item.append(`${time} #${notification.id} `, data);
  list.append(item);
}

async function poll() {
  for (;;) {
    try {
      const response = await fetch(`${pollUrl}?after=${lastId}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const answer = await response.json();
      answer.notifications.forEach(show);
      lastId = answer.last_id;
      status.textContent = "Listening…";
      retryDelay = 1000;
    } catch (error) {
      status.textContent = `Connection lost (${error.message}); retrying in ${retryDelay / 1000} s`;
      await new Promise((resolve) => setTimeout(resolve, retryDelay));
      retryDelay = Math.min(retryDelay * 2, 30000);
    }
  }
}

JSON.parse(document.getElementById("initial-notifications").textContent).forEach(show);
poll();
