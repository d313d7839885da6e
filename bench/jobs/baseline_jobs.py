"""Run with the baseline's settings: send worker jobs, wait until runworker has taken
them all, print jobs per second as JSON (BENCH_JOB_KIND, BENCH_JOB_COUNT, BENCH_DIR)."""

import json
import os
import time
from pathlib import Path

import django
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from PIL import Image

django.setup()
kind = os.environ["BENCH_JOB_KIND"]
count = int(os.environ["BENCH_JOB_COUNT"])
directory = Path(os.environ["BENCH_DIR"])
send = async_to_sync(get_channel_layer().send)

if kind == "thumbnail":
    sources = [directory / f"image-{number}.png" for number in range(count)]
    for source in sources:
        Image.new("RGB", (1024, 768), (200, 120, 40)).save(source, "PNG")
    started = time.perf_counter()
    for source in sources:
        send("jobs", {"type": "job.thumbnail", "path": str(source)})
    while sum(source.with_suffix(".thumb.png").exists() for source in sources) < count:
        time.sleep(0.01)
else:
    queue = redis.Redis.from_url(os.environ["REDIS_URL"])
    started = time.perf_counter()
    for _ in range(count):
        send("jobs", {"type": "job.empty"})
    while queue.zcard("asgijobs"):
        time.sleep(0.01)
elapsed = time.perf_counter() - started
print(json.dumps({"jobs_per_second": count / elapsed}))
