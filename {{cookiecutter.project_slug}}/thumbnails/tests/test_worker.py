import asyncio
import logging
from io import BytesIO

import PIL.Image
import pytest
from channels.testing import ApplicationCommunicator
from django.core.files.base import ContentFile

from thumbnails.models import Image


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


async def run_jobs(application, channel, *jobs):
    """Feed jobs to the worker through the real application, as runworker does."""
    worker = ApplicationCommunicator(application, {"type": "channel", "channel": channel})
    for job in jobs:
        await worker.send_input(job)
    return worker


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


async def test_generate_writes_a_thumbnail_and_marks_the_image_done(application, media_root):
    image = await stored_image(image_bytes())

    worker = await run_jobs(
        application, "thumbnails-generate", {"type": "thumbnails.generate", "image_id": image.pk}
    )
    await wait_for(handled(image))
    worker.stop()

    await image.arefresh_from_db()
    assert image.status == Image.Status.DONE
    with PIL.Image.open(media_root / image.thumbnail.name) as thumbnail:
        assert thumbnail.format == "PNG" and max(thumbnail.size) == 256


@pytest.mark.parametrize(
    "content",
    [b"not an image", image_bytes()[:200], image_bytes(size=(8000, 6000), format="PNG")],
    ids=["not-an-image", "truncated", "too-many-pixels"],
)
async def test_a_failing_job_marks_its_image_failed_and_the_next_job_still_runs(
    application, settings, content, caplog
):
    settings.THUMBNAILS_MAX_PIXELS = 10_000_000
    bad, good = await stored_image(content, "bad.png"), await stored_image(image_bytes())
    jobs = [{"type": "thumbnails.generate", "image_id": image.pk} for image in (bad, good)]

    with caplog.at_level(logging.ERROR, logger="thumbnails"):
        worker = await run_jobs(application, "thumbnails-generate", *jobs)
        await wait_for(handled(bad, good))
        worker.stop()

    assert await statuses(bad, good) == [Image.Status.FAILED, Image.Status.DONE]
    failed = await Image.objects.aget(pk=bad.pk)
    assert failed.error and failed.error in caplog.text


async def test_malformed_jobs_are_rejected_with_a_log_line_and_do_not_stop_the_worker(
    application, caplog
):
    good = await stored_image(image_bytes())
    malformed = [
        {"type": "thumbnails.explode"},
        {"type": ["not", "a", "string"]},
        {"no_type": True},
        {"type": "thumbnails.generate"},
        {"type": "thumbnails.generate", "image_id": "7"},
        {"type": "thumbnails.generate", "image_id": 999_999},
        {"type": "thumbnails.delete", "image_id": 999_999},
    ]

    with caplog.at_level(logging.ERROR, logger="thumbnails"):
        worker = await run_jobs(
            application,
            "thumbnails-generate",
            *malformed,
            {"type": "thumbnails.generate", "image_id": good.pk},
        )
        await wait_for(handled(good))
        worker.stop()

    assert await statuses(good) == [Image.Status.DONE]
    rejections = [record.getMessage() for record in caplog.records]
    assert len(rejections) == len(malformed)
    assert "image 999999 does not exist" in rejections[-1]


async def test_delete_removes_the_files_and_the_record(application, media_root):
    image = await stored_image(image_bytes())
    await asyncio.to_thread(image.thumbnail.save, "1.png", ContentFile(b"png"), save=False)
    await image.asave()
    files = [media_root / image.original.name, media_root / image.thumbnail.name]

    worker = await run_jobs(
        application, "thumbnails-delete", {"type": "thumbnails.delete", "image_id": image.pk}
    )
    await wait_for(gone(image))
    worker.stop()

    assert not any(path.exists() for path in files)
