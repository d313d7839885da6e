import asyncio
import logging

import pytest
from channels.testing import ApplicationCommunicator
from PIL import Image

from thumbnails.consumers import thumbnail_file


@pytest.fixture
def image_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Image.new("RGB", (800, 600), "teal").save(tmp_path / "photo.jpg")
    return "photo.jpg"


async def run_jobs(application, channel, *jobs):
    """Feed jobs to a worker consumer through the real application, as runworker does."""
    worker = ApplicationCommunicator(application, {"type": "channel", "channel": channel})
    for job in jobs:
        await worker.send_input(job)
    return worker


async def wait_for(condition):
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the worker did not get there in time")


async def test_generate_writes_a_small_png(application, image_file):
    job = {"type": "thumbnails.generate", "source": image_file}
    worker = await run_jobs(application, "thumbnails-generate", job)

    await wait_for(thumbnail_file(image_file).exists)
    worker.stop()

    with Image.open(thumbnail_file(image_file)) as thumbnail:
        assert thumbnail.format == "PNG"
        assert max(thumbnail.size) == 128


async def test_a_failing_job_is_logged_and_the_next_one_still_runs(
    application, image_file, settings, caplog
):
    (settings.MEDIA_ROOT / "broken.jpg").write_bytes(b"not an image")
    jobs = [
        {"type": "thumbnails.generate", "source": "broken.jpg"},
        {"type": "thumbnails.generate", "source": "../../etc/passwd"},
        {"type": "thumbnails.generate"},
        {"type": "thumbnails.generate", "source": image_file},
    ]
    with caplog.at_level(logging.ERROR, logger="thumbnails"):
        worker = await run_jobs(application, "thumbnails-generate", *jobs)
        await wait_for(thumbnail_file(image_file).exists)
        worker.stop()

    failures = [record.getMessage() for record in caplog.records]
    assert len(failures) == 3
    assert "outside MEDIA_ROOT" in failures[1]


async def test_delete_removes_the_thumbnail(application, image_file):
    target = thumbnail_file(image_file)
    target.parent.mkdir()
    target.write_bytes(b"png")
    job = {"type": "thumbnails.delete", "source": image_file}

    worker = await run_jobs(application, "thumbnails-delete", job)
    await wait_for(lambda: not target.exists())
    worker.stop()
