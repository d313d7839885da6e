import logging
import warnings
from io import BytesIO

import PIL.Image
from asgiref.sync import async_to_sync
from channels.consumer import SyncConsumer
from channels.db import database_sync_to_async
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile

from .models import Image

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = (256, 256)
# Notifications about finished thumbnails go to this stream, when that app is installed.
NOTIFICATION_STREAM = "thumbnails"


class BadJob(ValueError):
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
    max_pixels = getattr(settings, "THUMBNAILS_MAX_PIXELS", 40_000_000)
    with warnings.catch_warnings():
        # Pillow only warns below twice its limit: refuse any image over ours.
        warnings.simplefilter("error", PIL.Image.DecompressionBombWarning)
        PIL.Image.MAX_IMAGE_PIXELS = max_pixels
        with PIL.Image.open(source) as image:
            image.thumbnail(THUMBNAIL_SIZE)
            output = BytesIO()
            image.save(output, format="PNG")
    return output.getvalue()


class ThumbnailWorker(SyncConsumer):
    """Makes and deletes thumbnails for jobs on thumbnails-generate and thumbnails-delete.

    A job that fails is logged with its reason (and its image marked failed); it
    never stops the worker, so the jobs queued behind it still run.
    """

    @database_sync_to_async
    def dispatch(self, message):
        # Channels' own dispatch raises on a type it has no handler for, and any
        # exception ends this consumer together with the jobs it had queued.
        handlers = {"thumbnails.generate": self.generate, "thumbnails.delete": self.delete}
        kind = message.get("type")
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            logger.error("Rejected a job of unknown type: %r", message)
            return
        try:
            handler(message)
        except BadJob as error:
            logger.error("Rejected %s job: %s", kind, error)
        except Exception:
            logger.exception("%s job %r failed", kind, message)

    def generate(self, message):
        image = job_image(message)
        try:
            with image.original.open("rb") as source:
                thumbnail = make_thumbnail(source)
        except Exception as error:  # Pillow raises many kinds of error on bad files
            image.status, image.error = Image.Status.FAILED, str(error) or type(error).__name__
            logger.error("Thumbnail for image %s failed: %s", image.pk, image.error)
        else:
            image.thumbnail.save(f"{image.pk}.png", ContentFile(thumbnail), save=False)
            image.status, image.error = Image.Status.DONE, ""
            logger.info("Thumbnail for image %s written to %s", image.pk, image.thumbnail.name)
        image.save()
        self.notify(image)

    def delete(self, message):
        image = job_image(message)
        for field in (image.original, image.thumbnail):
            if field:
                field.delete(save=False)
        image.delete()
        logger.info("Image %s and its files deleted", message["image_id"])

    def notify(self, image):
        if apps.is_installed("notifications"):
            from notifications.streams import publish

            async_to_sync(publish)(NOTIFICATION_STREAM, {"image": image.as_dict()})
