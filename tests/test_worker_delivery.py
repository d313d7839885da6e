"""Worker jobs through what happens to workers every week: deploys (SIGTERM), crashes
(SIGKILL), a second worker, long outages, Redis restarts, failing jobs, a full queue and
a client that floods the queue. Real Redis, daphne and runworker processes, uploads
through the real page, and every image counted."""

import json
import random
import re
import signal
import time

import redis

from clients import django_shell, upload_image
from images import png_bytes
from servers import wait_for_text

# Decoding a 12-megapixel image takes the worker tens of milliseconds: a backlog of
# them lasts long enough to stop the worker in the middle of it.
LARGE = {"width": 4000, "height": 3000}
IMAGE_STATES = (
    "import json, os; from django.conf import settings; from thumbnails.models import Image\n"
    "print(json.dumps([[i.pk, i.status, i.error, bool(i.thumbnail) and "
    "os.path.exists(os.path.join(settings.MEDIA_ROOT, i.thumbnail.name))] "
    "for i in Image.objects.order_by('pk')]))"
)


def images(stack):
    """[(id, status, error, thumbnail file exists)] of every image, as the project sees them."""
    return [tuple(row) for row in json.loads(django_shell(stack, IMAGE_STATES))]


def queue_stats(stack):
    """`manage.py jobs --json` for the thumbnails-generate channel."""
    return json.loads(
        django_shell(
            stack, "from django.core.management import call_command; call_command('jobs', '--json')"
        )
    )["thumbnails-generate"]


def upload_backlog(stack, count, **image):
    """Upload count images while no worker runs (the stack's worker is stopped)."""
    stack.worker.stop()
    for number in range(count):
        upload_image(stack, png_bytes(rgb=(number % 256, 0, 0), **image), name=f"{number}.png")


def wait_until_none_pending(stack, count, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = images(stack)
        if len(rows) == count and all(status != "pending" for _, status, _, _ in rows):
            return rows
        time.sleep(0.5)
    raise AssertionError(f"images still pending after {timeout} s: {rows}")


def thumbnails_written(log):
    return [int(n) for n in re.findall(r"Thumbnail for image (\d+) written", log)]


def test_kill_9_at_random_moments_loses_no_job(stack, tmp_path):
    count = 50
    upload_backlog(stack, count, **LARGE)
    moments = random.Random()
    logs = []
    for kill in range(5):
        worker = stack.worker.again(log_path=tmp_path / f"worker-{kill}.log")
        logs.append(worker.log_path)
        wait_for_text(worker.log_path, "Thumbnail for image", timeout=60)
        time.sleep(moments.uniform(0, 0.3))
        worker.process.kill()
        worker.stop()
    survivor = stack.worker.again(log_path=tmp_path / "worker-last.log")
    logs.append(survivor.log_path)
    try:
        # Jobs held by killed workers come back after the visibility timeout (30 s).
        rows = wait_until_none_pending(stack, count)
        stats = queue_stats(stack)
    finally:
        survivor.stop()

    assert [status for _, status, _, _ in rows] == ["done"] * count
    assert all(has_file for *_, has_file in rows)
    assert (stats["queued"], stats["in_flight"], stats["dead_lettered"]) == (0, 0, 0)
    # At least once: a job killed in its last moments may run again, never less.
    written = [n for log in logs for n in thumbnails_written(log.read_text())]
    assert set(written) == {pk for pk, *_ in rows}


def test_sigterm_finishes_the_job_in_hand_exits_0_and_loses_nothing(stack, tmp_path):
    count = 30
    upload_backlog(stack, count, **LARGE)
    worker = stack.worker.again(log_path=tmp_path / "worker-deployed.log")
    wait_for_text(worker.log_path, "Thumbnail for image", timeout=60)

    worker.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = worker.process.wait(timeout=30)
    stop_seconds = time.monotonic() - started
    worker.stop()
    done_before = thumbnails_written(worker.output())
    successor = stack.worker.again(log_path=tmp_path / "worker-successor.log")
    try:
        rows = wait_until_none_pending(stack, count)
    finally:
        successor.stop()

    assert code == 0
    assert stop_seconds < 20  # WORKER_STOP_TIMEOUT
    assert "Stopping: finishing 1 job(s) in hand" in worker.output()
    assert "Worker stopped" in worker.output()
    assert 0 < len(done_before) < count
    assert [status for _, status, _, _ in rows] == ["done"] * count
    # Nothing was handed back or repeated: each image's thumbnail was made once.
    written = done_before + thumbnails_written(successor.output())
    assert sorted(written) == [pk for pk, *_ in rows]


def test_two_workers_share_a_backlog(stack, tmp_path):
    count = 40
    upload_backlog(stack, count, **LARGE)
    workers = [stack.worker.again(log_path=tmp_path / f"worker-{n}.log") for n in (1, 2)]
    try:
        rows = wait_until_none_pending(stack, count)
    finally:
        for worker in workers:
            worker.stop()

    shares = [len(thumbnails_written(worker.output())) for worker in workers]
    assert [status for _, status, _, _ in rows] == ["done"] * count
    assert sum(shares) == count
    assert min(shares) >= count // 4, shares


def test_jobs_wait_for_a_worker_longer_than_channels_old_60_s_expiry(stack, tmp_path):
    upload_backlog(stack, 5)
    time.sleep(70)
    worker = stack.worker.again(log_path=tmp_path / "worker-back.log")
    try:
        rows = wait_until_none_pending(stack, 5)
    finally:
        worker.stop()

    assert [status for _, status, _, _ in rows] == ["done"] * 5


def test_queued_jobs_survive_a_redis_restart(stack, redis_server, tmp_path):
    # As compose.yaml runs it: with an append-only file.
    client = redis.Redis.from_url(redis_server.url)
    client.config_set("appendonly", "yes")
    while client.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.1)
    upload_backlog(stack, 5)

    redis_server.stop()
    redis_server.options = ("--appendonly", "yes")
    redis_server.start()
    queued_after_restart = queue_stats(stack)["queued"]
    worker = stack.worker.again(log_path=tmp_path / "worker-after-restart.log")
    try:
        rows = wait_until_none_pending(stack, 5)
    finally:
        worker.stop()

    assert queued_after_restart == 5
    assert [status for _, status, _, _ in rows] == ["done"] * 5
    assert "keeps no append-only file" not in worker.output()


def test_a_job_that_always_fails_is_tried_3_times_then_dead_lettered(stack):
    upload_backlog(stack, 4)
    # The original of image 2 vanishes from storage: its job fails on every attempt.
    (
        stack.media
        / django_shell(
            stack,
            "from thumbnails.models import Image; print(Image.objects.get(pk=2).original.name)",
        )
    ).unlink()
    worker = stack.worker.again(log_path=stack.worker.log_path.with_name("worker-2.log"))
    try:
        rows = wait_until_none_pending(stack, 4)
        stats = queue_stats(stack)
    finally:
        worker.stop()

    log = worker.output()
    assert [status for _, status, _, _ in rows] == ["done", "failed", "done", "done"]
    error = rows[1][2]
    assert "gave up after 3 attempts" in error and "FileNotFoundError" in error
    for attempt in (1, 2, 3):
        assert f"failed (attempt {attempt} of 3)" in log
    assert (stats["retried"], stats["dead_lettered"], stats["queued"]) == (2, 1, 0)


def test_a_storage_failure_marks_the_image_failed_not_pending(stack):
    upload_backlog(stack, 2)
    # Thumbnails cannot be written: a file stands where their directory should be.
    (stack.media / "thumbnails").write_text("not a directory")
    worker = stack.worker.again(log_path=stack.worker.log_path.with_name("worker-2.log"))
    try:
        rows = wait_until_none_pending(stack, 2)
    finally:
        worker.stop()

    assert [status for _, status, _, _ in rows] == ["failed", "failed"]
    assert all("gave up after 3 attempts" in error for _, _, error, _ in rows)


def test_uploads_refused_by_a_full_queue_are_stored_and_done_later(serve, tmp_path):
    stack = serve(
        # What is tested: the capacity, and the re-sending of what it refused.
        environment={
            "WORKER_QUEUE_CAPACITY": "2",
            "THUMBNAILS_RESEND_AFTER": "1",
            "WORKER_RESEND_INTERVAL": "2",
        }
    )
    upload_backlog(stack, 5)
    queued = queue_stats(stack)["queued"]
    waiting = [error for _, _, error, _ in images(stack)]
    worker = stack.worker.again(log_path=tmp_path / "worker-2.log")
    try:
        rows = wait_until_none_pending(stack, 5, timeout=60)
    finally:
        worker.stop()

    assert queued == 2
    assert stack.daphne.output().count("not queued, to be sent again later") == 3
    # The page says why those three wait.
    assert sum(error.startswith("not queued yet") for error in waiting) == 3
    assert [status for _, status, _, _ in rows] == ["done"] * 5


def test_an_upload_while_redis_is_away_is_stored_and_done_once_it_is_back(serve, redis_server):
    stack = serve(environment={"THUMBNAILS_RESEND_AFTER": "1", "WORKER_RESEND_INTERVAL": "2"})
    redis_server.stop()
    upload_image(stack, png_bytes(), name="while-redis-is-away.png")
    pending = images(stack)
    redis_server.start()

    rows = wait_until_none_pending(stack, 1, timeout=60)

    assert [status for _, status, _, _ in pending] == ["pending"]
    assert "not queued, to be sent again later" in stack.daphne.output()
    assert [status for _, status, _, _ in rows] == ["done"]


# Documentation addresses (RFC 5737): only ever a header here, never a destination.
FLOOD, VISITOR = "192.0.2.1", "198.51.100.7"


def test_one_client_flooding_the_queue_does_not_hold_up_another(serve, tmp_path):
    # Behind a proxy, as production runs it: clients differ by X-Forwarded-For.
    stack = serve(environment={"TRUSTED_PROXY_COUNT": "1"})
    stack.worker.stop()
    flood = [png_bytes(width=64, height=64, rgb=(n % 256, 0, 0)) for n in range(150)]
    for number, content in enumerate(flood):
        upload_image(stack, content, f"flood-{number}.png", headers={"X-Forwarded-For": FLOOD})
    upload_image(stack, png_bytes(**LARGE), "visitor.png", headers={"X-Forwarded-For": VISITOR})
    visitor = len(flood) + 1

    worker = stack.worker.again(log_path=tmp_path / "worker-fair.log")
    try:
        wait_until_none_pending(stack, visitor)
    finally:
        worker.stop()

    order = thumbnails_written(worker.output())
    assert sorted(order) == list(range(1, visitor + 1))
    # Turn by turn: the visitor's job comes second, not after the 150 of the flood.
    assert order.index(visitor) <= 1, order[:5]
