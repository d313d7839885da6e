"""The worker reports each finished image on the "thumbnails" notification stream.

(The post-generation hook removes this file from projects without the notifications app.)
"""

from io import BytesIO

import PIL.Image
from channels.testing import ApplicationCommunicator
from django.core.files.base import ContentFile

from notifications.models import Notification
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

    reports = [n.data["image"] async for n in Notification.objects.filter(stream="thumbnails")]
    assert [(report["id"], report["status"]) for report in reports] == [
        (good.pk, "done"),
        (bad.pk, "failed"),
    ]
