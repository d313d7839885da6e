"""An app's routings.py, included by dotted path in the routing tests."""

from ..paths import path
from .recording import RecordingConsumer, RecordingHttpConsumer

app_name = "sample"

urlpatterns = [
    path("room/<slug:room>/", RecordingConsumer.as_asgi(), name="room"),
    path("page/", RecordingHttpConsumer.as_asgi(), name="page"),
]
