"""Run inside the baked project (manage.py shell): send worker jobs, wait until the
worker has handled them all, print jobs per second as JSON.

argv-like settings come from the environment: BENCH_JOB_KIND (thumbnail or empty),
BENCH_JOB_COUNT.
"""

import io
import json
import os
import time

import redis
from django.core.files.base import ContentFile
from PIL import Image as PillowImage
from thumbnails.jobs import request_deletion, request_thumbnail
from thumbnails.models import Image

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
    ids = [image.pk for image in Image.objects.bulk_create(images)]
    started = time.perf_counter()
    for image_id in ids:
        request_thumbnail(image_id)
    while Image.objects.filter(id__in=ids, status=Image.Status.PENDING).exists():
        time.sleep(0.01)
else:
    # Deletion jobs for images that do not exist: the worker looks each one up,
    # logs one line and moves on. The least a job of this project can do.
    queue = redis.Redis.from_url(os.environ["REDIS_URL"])
    started = time.perf_counter()
    for image_id in range(10**9, 10**9 + count):
        request_deletion(image_id)
    while queue.zcard("asgithumbnails-delete"):
        time.sleep(0.01)
elapsed = time.perf_counter() - started
print(json.dumps({"jobs_per_second": count / elapsed}))
