from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


def request_thumbnail(source):
    """Ask the worker for a thumbnail of source, a file name relative to MEDIA_ROOT."""
    async_to_sync(get_channel_layer().send)(
        "thumbnails-generate", {"type": "thumbnails.generate", "source": source}
    )


def request_thumbnail_deletion(source):
    async_to_sync(get_channel_layer().send)(
        "thumbnails-delete", {"type": "thumbnails.delete", "source": source}
    )
