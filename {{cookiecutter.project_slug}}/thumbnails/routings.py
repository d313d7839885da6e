from . import consumers

# Run with: python manage.py runworker thumbnails-generate thumbnails-delete
channel_routes = {
    "thumbnails-generate": consumers.ThumbnailWorker.as_asgi(),
    "thumbnails-delete": consumers.ThumbnailWorker.as_asgi(),
}
