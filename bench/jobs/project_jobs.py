"""Run inside the baked project (manage.py shell): send worker jobs, wait until the
workers have handled and acknowledged them all, print jobs per second as JSON.

argv-like settings come from the environment: BENCH_JOB_KIND (thumbnail, empty,
latency or memory), BENCH_JOB_COUNT.

latency: one empty job at a time to an idle worker, the time from send_job() to its
acknowledgement; prints the median and 99th percentile in ms. memory: Redis's used
memory grown by count queued jobs (sent with the workers stopped, then cleared),
per job.
"""

import io
import json
import os
import statistics
import time

import redis
from django.core.files.base import ContentFile
from PIL import Image as PillowImage
from thumbnails.jobs import request_thumbnail, send_job
from thumbnails.models import Image
from thumbnails.routings import DELETE_CHANNEL

kind = os.environ["BENCH_JOB_KIND"]
count = int(os.environ["BENCH_JOB_COUNT"])


def png(size=(1024, 768)):
    buffer = io.BytesIO()
    PillowImage.new("RGB", size, (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


if kind == "thumbnail":
    content = png()
    images = [Image() for _ in range(count)]
    for image in images:
        image.original.save("bench.png", ContentFile(content), save=False)
    images = Image.objects.bulk_create(images)
    ids = [image.pk for image in images]
    started = time.perf_counter()
    for image in images:
        request_thumbnail(image)
    while Image.objects.filter(id__in=ids, status=Image.Status.PENDING).exists():
        time.sleep(0.01)
elif kind in ("latency", "memory"):
    queue = redis.Redis.from_url(os.environ["REDIS_URL"])
    jobs_held = "asgi:jobs:{" + DELETE_CHANNEL + "}:counters"
    if kind == "latency":
        latencies = []
        for image_id in range(10**9, 10**9 + count):
            started = time.perf_counter()
            send_job(DELETE_CHANNEL, {"type": "thumbnails.delete", "image_id": image_id})
            while int(queue.hget(jobs_held, "size") or 0):
                time.sleep(0.0002)
            latencies.append((time.perf_counter() - started) * 1000)
        result = {
            "p50_ms": statistics.median(latencies),
            "p99_ms": statistics.quantiles(latencies, n=100)[98],
        }
    else:
        before = queue.info("memory")["used_memory"]
        for image_id in range(10**9, 10**9 + count):
            message = {"type": "thumbnails.delete", "image_id": image_id}
            send_job(DELETE_CHANNEL, message, key=f"delete-{image_id}", owner="user-1234")
        result = {"bytes_per_job": (queue.info("memory")["used_memory"] - before) / count}
        for key in queue.scan_iter(match="asgi:jobs:{" + DELETE_CHANNEL + "}*"):
            queue.delete(key)
    print(json.dumps(result))
    raise SystemExit
else:
    # Deletion jobs for images that do not exist: the worker looks each one up, finds
    # it already deleted, logs one line and acknowledges. The least a job here can do.
    queue = redis.Redis.from_url(os.environ["REDIS_URL"])
    jobs_held = "asgi:jobs:{" + DELETE_CHANNEL + "}:counters"
    started = time.perf_counter()
    for image_id in range(10**9, 10**9 + count):
        send_job(DELETE_CHANNEL, {"type": "thumbnails.delete", "image_id": image_id})
    while int(queue.hget(jobs_held, "size") or 0):
        time.sleep(0.01)
elapsed = time.perf_counter() - started
print(json.dumps({"jobs_per_second": count / elapsed}))
