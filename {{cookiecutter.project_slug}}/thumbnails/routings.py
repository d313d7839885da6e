"""The worker channels of this app: `manage.py runworker` listens on every routed one."""

from . import consumers

GENERATE_CHANNEL = "thumbnails-generate"
DELETE_CHANNEL = "thumbnails-delete"

channel_routes = {
    GENERATE_CHANNEL: consumers.ThumbnailWorker.as_asgi(),
    DELETE_CHANNEL: consumers.ThumbnailWorker.as_asgi(),
}
