import logging
import warnings
from io import BytesIO

import PIL.Image
from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from realtime.jobs import Reject

from .models import Image

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = (256, 256)
# Notifications about finished thumbnails go to this stream, when that app is installed.
NOTIFICATION_STREAM = "thumbnails"


class BadJob(Reject):
    """A job message the worker cannot act on; the message says why."""


def job_image(message):
    """The Image a job names; raises BadJob if it names none."""
    image_id = message.get("image_id")
    if not isinstance(image_id, int) or isinstance(image_id, bool):
        raise BadJob(f"image_id must be an integer, not {image_id!r}")
    try:
        return Image.objects.get(pk=image_id)
    except Image.DoesNotExist:
        raise BadJob(f"image {image_id} does not exist (deleted before its job ran?)") from None


def make_thumbnail(source):
    """PNG bytes of a thumbnail of the image file source."""
    max_pixels = settings.THUMBNAILS_MAX_PIXELS
    with warnings.catch_warnings():
        # Pillow only warns below twice its limit: refuse any image over ours.
        warnings.simplefilter("error", PIL.Image.DecompressionBombWarning)
        PIL.Image.MAX_IMAGE_PIXELS = max_pixels
        with PIL.Image.open(source) as image:
            # Shrink by a whole factor first (an average of each block of pixels), then
            # resample the rest: three times faster than Pillow's default gap of 2, with
            # no aliasing a thumbnail would show.
            image.thumbnail(THUMBNAIL_SIZE, reducing_gap=1.0)
            output = BytesIO()
            # zlib's fastest level: on a photograph, five times faster than the default
            # level for a file about a sixth larger.
            image.save(output, format="PNG", compress_level=1)
    return output.getvalue()


class ThumbnailWorker(AsyncConsumer):
    """Makes and deletes thumbnails for the jobs of thumbnails-generate and thumbnails-delete.

    runworker delivers each job at least once: a job runs again if its worker stopped
    before acknowledging it, so every handler must be safe to run twice (a done image
    is left alone; a deleted one is not an error). An image Pillow cannot read is
    marked failed at once; any other error (storage, database) is raised so that the
    job is tried again, and once it is dead-lettered job_failed() marks the image
    failed with the reason.
    """

    # No channel of its own on the default layer: only jobs reach it, from runworker.
    # (Channels takes None, for no layer; types-channels declares a str only.)
    channel_layer_alias = None  # type: ignore[assignment]

    @classmethod
    def resend_lost_jobs(cls):
        # Imported here: jobs imports routings, which imports this module.
        from .jobs import resend_lost_jobs

        resend_lost_jobs()

    async def dispatch(self, message):
        # The handlers run in a thread, as a SyncConsumer's do. The notifications one
        # stored are sent from here, on the worker's event loop: through async_to_sync
        # from the thread each cost half a millisecond per job.
        notifications = await database_sync_to_async(self.handle)(message)
        if notifications:
            from notifications.streams import wake

            for stream, notification in notifications:
                await wake(stream, notification)

    def handle(self, message):
        """Run message's handler; return the notification it stored, if any."""
        # Channels' own dispatch raises ValueError on an unknown type, which would be
        # tried again; Reject dead-letters it at once.
        handlers = {
            "thumbnails.generate": self.generate,
            "thumbnails.delete": self.delete,
            "job.failed": self.job_failed,
        }
        kind = message.get("type")
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise Reject(f"unknown job type {kind!r}")
        return handler(message)

    def generate(self, message):
        image = job_image(message)
        if image.status != Image.Status.PENDING:
            logger.info("Image %s is already %s; nothing to do", image.pk, image.status)
            return
        # A storage error raises from here, and the job is tried again.
        with image.original.open("rb") as source:
            content = source.read()
        try:
            thumbnail = make_thumbnail(BytesIO(content))
        except Exception as error:  # Pillow raises many kinds of error on bad files
            # Trying again would not help.
            return self.record(image, Image.Status.FAILED, str(error) or type(error).__name__)
        image.thumbnail.save(f"{image.pk}.png", ContentFile(thumbnail), save=False)
        logger.info("Thumbnail for image %s written to %s", image.pk, image.thumbnail.name)
        return self.record(image, Image.Status.DONE)

    def delete(self, message):
        try:
            image = job_image(message)
        except BadJob as error:
            if isinstance(message.get("image_id"), int):
                logger.info("Image %s is already deleted", message["image_id"])
                return
            raise error
        for field in (image.original, image.thumbnail):
            if field:
                field.delete(save=False)
        image.delete()
        logger.info("Image %s and its files deleted", message["image_id"])

    def job_failed(self, message):
        """A job given up on (dead-lettered): its image shows why."""
        job = message["job"]
        if job.get("type") != "thumbnails.generate":
            return
        try:
            image = job_image(job)
        except BadJob:
            return
        if image.status == Image.Status.PENDING:
            return self.record(image, Image.Status.FAILED, message["error"])

    def record(self, image, status, error=""):
        """Save image's status; return the notifications stored about it, (stream,
        notification) pairs, if that app is installed: one for every page on the public
        stream, one for the uploader on their private stream."""
        image.status, image.error = status, error
        if error:
            logger.error("Thumbnail for image %s failed: %s", image.pk, error)
        # One commit for the image and its notification.
        with transaction.atomic():
            image.save(update_fields=["status", "error", "thumbnail"])
            if apps.is_installed("notifications"):
                from notifications.streams import private, public, store_on_each

                streams = [public(NOTIFICATION_STREAM)]
                if image.uploader:
                    streams.append(private(image.uploader))
                return store_on_each(streams, {"image": image.as_dict()})
