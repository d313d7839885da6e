import asyncio
import logging
from io import BytesIO
from typing import Any

import PIL.Image
import pytest
from django.core.files.base import ContentFile

from thumbnails.models import Image
from thumbnails.routings import DELETE_CHANNEL, GENERATE_CHANNEL


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_bytes(size=(800, 600), format="JPEG"):
    output = BytesIO()
    PIL.Image.new("RGB", size, "teal").save(output, format=format)
    return output.getvalue()


async def stored_image(content, name="photo.jpg"):
    image = Image()
    await asyncio.to_thread(image.original.save, name, ContentFile(content), save=False)
    await image.asave()
    return image


@pytest.fixture
async def run_jobs(job_layer, worker_for):
    """await run_jobs(channel, *jobs, **layer_options): send jobs through a real Redis to
    a worker running the project's application, as runworker does; returns the layer
    once every image of the test has left "pending" (the worker is then stopped)."""

    async def run(channel, *jobs, until, **layer_options):
        layer = job_layer(**layer_options)
        for job in jobs:
            await layer.send(channel, job)
        channels = [GENERATE_CHANNEL, DELETE_CHANNEL]
        async with worker_for(channels, layer, resend_interval=3600):
            await wait_for(until)
            await wait_for(lambda: all_jobs_finished(layer, channels))
        return layer

    return run


async def all_jobs_finished(layer, channels):
    for channel in channels:
        stats = await layer.stats(channel)
        if stats["queued"] or stats["in_flight"]:
            return False
    return True


async def wait_for(condition):
    """Wait until the coroutine function condition returns true."""
    for _ in range(300):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the worker did not get there in time")


async def statuses(*images):
    return [(await Image.objects.aget(pk=image.pk)).status for image in images]


def gone(image):
    """A condition for wait_for: the image's record is deleted."""

    async def condition():
        return not await Image.objects.filter(pk=image.pk).aexists()

    return condition


def handled(*images):
    """A condition for wait_for: every image's job has finished, well or not."""

    async def condition():
        return Image.Status.PENDING not in await statuses(*images)

    return condition


async def test_generate_writes_a_thumbnail_and_marks_the_image_done(run_jobs, media_root):
    image = await stored_image(image_bytes())

    job = {"type": "thumbnails.generate", "image_id": image.pk}
    await run_jobs(GENERATE_CHANNEL, job, until=handled(image))

    await image.arefresh_from_db()
    assert image.status == Image.Status.DONE
    with PIL.Image.open(media_root / image.thumbnail.name) as thumbnail:
        assert thumbnail.format == "PNG" and max(thumbnail.size) == 256


@pytest.mark.parametrize(
    "content",
    [b"not an image", image_bytes()[:200], image_bytes(size=(8000, 6000), format="PNG")],
    ids=["not-an-image", "truncated", "too-many-pixels"],
)
async def test_an_unreadable_image_is_marked_failed_at_once_and_the_next_job_still_runs(
    run_jobs, settings, content, caplog
):
    settings.THUMBNAILS_MAX_PIXELS = 10_000_000
    bad, good = await stored_image(content, "bad.png"), await stored_image(image_bytes())
    jobs = [{"type": "thumbnails.generate", "image_id": image.pk} for image in (bad, good)]

    with caplog.at_level(logging.ERROR, logger="thumbnails"):
        layer = await run_jobs(GENERATE_CHANNEL, *jobs, until=handled(bad, good))

    assert await statuses(bad, good) == [Image.Status.FAILED, Image.Status.DONE]
    failed = await Image.objects.aget(pk=bad.pk)
    assert failed.error and failed.error in caplog.text
    # Trying again would not help: no retry, no dead letter.
    stats = await layer.stats(GENERATE_CHANNEL)
    assert (stats["retried"], stats["dead_lettered"]) == (0, 0)


async def test_malformed_jobs_are_dead_lettered_with_a_reason_and_the_worker_goes_on(
    run_jobs, caplog
):
    good = await stored_image(image_bytes())
    malformed: list[dict[str, Any]] = [
        {"type": "thumbnails.explode"},
        {"type": "thumbnails.generate"},
        {"type": "thumbnails.generate", "image_id": "7"},
        {"type": "thumbnails.generate", "image_id": 999_999},
    ]
    job = {"type": "thumbnails.generate", "image_id": good.pk}

    layer = await run_jobs(GENERATE_CHANNEL, *malformed, job, until=handled(good))

    assert await statuses(good) == [Image.Status.DONE]
    dead = await layer.dead_letters(GENERATE_CHANNEL)
    assert sorted(message["type"] for message, *_ in dead) == sorted(
        job["type"] for job in malformed
    )
    assert "image 999999 does not exist" in caplog.text
    assert "unknown job type 'thumbnails.explode'" in caplog.text


async def test_a_storage_failure_is_tried_again_then_marks_the_image_failed(run_jobs, media_root):
    image = await stored_image(image_bytes())
    (media_root / "thumbnails").write_text("a file where the directory should be")

    job = {"type": "thumbnails.generate", "image_id": image.pk}
    await run_jobs(GENERATE_CHANNEL, job, until=handled(image), retry_delay=0.1)

    await image.arefresh_from_db()
    assert image.status == Image.Status.FAILED
    assert image.error.startswith("gave up after 3 attempts: FileExistsError")


async def test_a_job_run_twice_leaves_a_done_image_alone(run_jobs, caplog):
    image = await stored_image(image_bytes())
    job = {"type": "thumbnails.generate", "image_id": image.pk}

    await run_jobs(GENERATE_CHANNEL, job, job, until=handled(image))

    await image.arefresh_from_db()
    assert image.status == Image.Status.DONE
    assert f"Image {image.pk} is already done" in caplog.text


async def test_delete_removes_the_files_and_the_record_even_if_run_twice(run_jobs, media_root):
    image = await stored_image(image_bytes())
    await asyncio.to_thread(image.thumbnail.save, "1.png", ContentFile(b"png"), save=False)
    await image.asave()
    files = [media_root / image.original.name, media_root / image.thumbnail.name]

    job = {"type": "thumbnails.delete", "image_id": image.pk}
    await run_jobs(DELETE_CHANNEL, job, job, until=gone(image))

    assert not any(path.exists() for path in files)
