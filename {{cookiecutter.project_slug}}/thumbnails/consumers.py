import logging
import os
from pathlib import Path

from channels.consumer import SyncConsumer
from django.conf import settings
from PIL import Image

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = (128, 128)


class BadJob(ValueError):
    """A job message that names no usable source file."""


def media_file(source):
    """The file source names under MEDIA_ROOT; refuses names that leave it."""
    if not isinstance(source, str) or not source:
        raise BadJob(f"source must be a file name, not {source!r}")
    media_root = Path(settings.MEDIA_ROOT).resolve()
    path = (media_root / source).resolve()
    if not path.is_relative_to(media_root):
        raise BadJob(f"source {source!r} is outside MEDIA_ROOT")
    return path


def thumbnail_file(source):
    return Path(settings.MEDIA_ROOT).resolve() / "thumbnails" / f"{Path(source).stem}.png"


class ThumbnailWorker(SyncConsumer):
    """Makes and deletes thumbnails for jobs sent to thumbnails-generate and thumbnails-delete.

    A job that fails is logged with its reason; it never stops the worker, so the
    jobs queued behind it still run.
    """

    def thumbnails_generate(self, message):
        source = message.get("source")
        try:
            path = media_file(source)
            target = thumbnail_file(source)
            with Image.open(path) as image:
                image.thumbnail(THUMBNAIL_SIZE)
                target.parent.mkdir(parents=True, exist_ok=True)
                # Write aside, then rename: a page never sees half a thumbnail.
                part = target.with_name(f".{target.name}.{os.getpid()}.part")
                try:
                    image.save(part, format="PNG")
                    part.replace(target)
                finally:
                    part.unlink(missing_ok=True)
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            logger.error("Thumbnail for %r failed: %s", source, error)
            return
        logger.info("Thumbnail for %r written to %s", source, target)

    def thumbnails_delete(self, message):
        source = message.get("source")
        try:
            media_file(source)  # refuses names outside MEDIA_ROOT, as generate does
            thumbnail_file(source).unlink(missing_ok=True)
        except (OSError, ValueError) as error:
            logger.error("Deleting the thumbnail for %r failed: %s", source, error)
