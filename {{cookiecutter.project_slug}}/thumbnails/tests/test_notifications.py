"""The worker reports each finished image on the "thumbnails" notification stream, and
to its uploader alone on their private stream.

(The post-generation hook removes this file from projects without the notifications app.)
"""

from io import BytesIO

import PIL.Image
import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import ApplicationCommunicator
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from notifications.models import Notification
from notifications.streams import private, publish_from_sync
from thumbnails.models import Image
from thumbnails.tests.test_worker import handled, wait_for


async def test_finished_and_failed_images_are_reported(application, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    output = BytesIO()
    PIL.Image.new("RGB", (64, 64)).save(output, format="PNG")
    good, bad = Image(), Image()
    good.original.save("good.png", ContentFile(output.getvalue()), save=False)
    bad.original.save("bad.png", ContentFile(b"not an image"), save=False)
    await good.asave()
    await bad.asave()

    worker = ApplicationCommunicator(
        application, {"type": "channel", "channel": "thumbnails-generate"}
    )
    for image in (good, bad):
        await worker.send_input({"type": "thumbnails.generate", "image_id": image.pk})
    await wait_for(handled(good, bad))
    worker.stop()

    reports = [
        n.data["image"]
        async for n in Notification.objects.filter(stream="thumbnails", recipient="")
    ]
    assert [(report["id"], report["status"]) for report in reports] == [
        (good.pk, "done"),
        (bad.pk, "failed"),
    ]


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_announced_for_the_pages_open_elsewhere(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    output = BytesIO()
    PIL.Image.new("RGB", (64, 64)).save(output, format="PNG")
    upload = SimpleUploadedFile("shared.png", output.getvalue(), content_type="image/png")

    client.post("/thumbnails/", {"original": upload})
    # The upload's job waits in the in-memory worker layer, which outlives the test.
    async_to_sync(channel_layers[settings.WORKER_CHANNEL_LAYER].flush)()

    [report] = [
        n.data["image"] for n in Notification.objects.filter(stream="thumbnails", recipient="")
    ]
    assert report["status"] == "pending" and report["name"].endswith("shared.png")


async def test_the_uploader_alone_hears_that_their_thumbnail_is_done(
    application, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    output = BytesIO()
    PIL.Image.new("RGB", (64, 64)).save(output, format="PNG")
    image = Image(uploader="guest-abc")
    image.original.save("mine.png", ContentFile(output.getvalue()), save=False)
    await image.asave()

    worker = ApplicationCommunicator(
        application, {"type": "channel", "channel": "thumbnails-generate"}
    )
    await worker.send_input({"type": "thumbnails.generate", "image_id": image.pk})
    await wait_for(handled(image))
    worker.stop()

    private = [n async for n in Notification.objects.exclude(recipient="")]
    assert [(n.recipient, n.data["image"]["status"]) for n in private] == [("guest-abc", "done")]


@pytest.mark.django_db(transaction=True)
def test_after_uploading_a_guests_page_follows_their_private_stream(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert b"private-poll-url" not in client.get("/thumbnails/").content
    output = BytesIO()
    PIL.Image.new("RGB", (64, 64)).save(output, format="PNG")
    upload = SimpleUploadedFile("mine.png", output.getvalue(), content_type="image/png")

    client.post("/thumbnails/", {"original": upload})
    async_to_sync(channel_layers[settings.WORKER_CHANNEL_LAYER].flush)()
    # The worker may be done before the page after the upload's redirect is served.
    image = Image.objects.get()
    done = publish_from_sync(private(image.uploader), {"image": image.as_dict()})
    page = client.get("/thumbnails/")

    assert b'"/notifications/private/poll/"' in page.content
    assert page.context["yours_after"] < done["id"]
    # Later visits start from the newest.
    assert client.get("/thumbnails/").context["yours_after"] == done["id"]
