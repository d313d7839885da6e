// Follows the "thumbnails" public notification stream (a long-poll; see
// notifications/consumers.py): adds the images uploaded in other tabs (their Delete
// button appears on reload, for their uploader), and updates an image's entry when
// the worker reports on it. Follows the visitor's private stream too, where the
// worker tells them, and only them, that their own thumbnail is done.
"use strict";

const images = document.getElementById("images");
const yours = document.getElementById("yours");

function data(id) {
  const element = document.getElementById(id);
  return element === null ? null : JSON.parse(element.textContent);
}

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

function tellUploader(image) {
  yours.textContent = image.status === "done"
    ? `Your thumbnail of ${image.name} is ready.`
    : `Your image ${image.name} could not be made into a thumbnail: ${image.error}`;
  yours.hidden = false;
}

// One long-poll at a time, each asking for everything after the last id seen.
async function follow(pollUrl, after, show) {
  for (;;) {
    try {
      const response = await fetch(`${pollUrl}?after=${after}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const answer = await response.json();
      answer.notifications.forEach((notification) => show(notification.data.image));
      after = answer.last_id;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

follow(data("poll-url"), data("live-after"), update);
if (data("private-poll-url") !== null) {
  follow(data("private-poll-url"), data("yours-after"), tellUploader);
}
