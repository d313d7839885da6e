// Updates an image's entry when the worker reports on it through the
// "thumbnails" notification stream (a long-poll; see notifications/consumers.py).
"use strict";

const pollUrl = JSON.parse(document.getElementById("poll-url").textContent);
let after = JSON.parse(document.getElementById("live-after").textContent);

function update(image) {
  const item = document.getElementById(`image-${image.id}`);
  if (!item) return;
  item.dataset.status = image.status;
  const status = item.querySelector(".status");
  status.className = `status ${image.status}`;
  status.textContent = image.error ? `${image.status}: ${image.error}` : image.status;
  if (image.thumbnail && !item.querySelector("img")) {
    const img = document.createElement("img");
    img.src = image.thumbnail;
    img.alt = `Thumbnail of ${item.querySelector(".name").textContent}`;
    status.before(img);
  }
}

async function listen() {
  for (;;) {
    try {
      const response = await fetch(`${pollUrl}?after=${after}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const answer = await response.json();
      answer.notifications.forEach((notification) => update(notification.data.image));
      after = answer.last_id;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

listen();
