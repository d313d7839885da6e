from realtime.paths import path

from . import consumers

app_name = "chat"

urlpatterns = [
    # Any room name routes; the consumer refuses bad ones with a reason and a close code.
    path("<str:room_name>/", consumers.ChatConsumer.as_asgi(), name="room"),
]
