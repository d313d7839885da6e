from django.urls import path

from . import consumers

app_name = "chat"

urlpatterns = [
    # slug admits only ASCII letters, digits, - and _, all valid in a group name.
    path("<slug:room_name>/", consumers.ChatConsumer.as_asgi(), name="room"),
]
