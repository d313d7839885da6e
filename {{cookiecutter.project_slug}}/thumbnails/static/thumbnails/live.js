// Follows the "thumbnails" notification stream (a long-poll; see
// notifications/consumers.py): adds the images uploaded in other tabs (their Delete
// button appears on reload, for their uploader), and updates an image's entry when
// the worker reports on it.
"use strict";

const pollUrl = JSON.parse(document.getElementById("poll-url").textContent);
const images = document.getElementById("images");
let after = JSON.parse(document.getElementById("live-after").textContent);

function added(image) {
  const item = document.getElementById("new-image").content.firstElementChild.cloneNode(true);
  item.id = `image-${image.id}`;
  item.querySelector(".name").textContent = image.name;
  images.querySelector("li:not([id])")?.remove();  // "No images yet."
  images.prepend(item);
  return item;
}

function update(image) {
  const item = document.getElementById(`image-${image.id}`) ?? added(image);
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
