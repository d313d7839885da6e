from django.urls import path

from . import consumers

app_name = "notifications"

urlpatterns = [
    # slug admits only ASCII letters, digits, - and _, all valid in a group name.
    path("<slug:stream>/poll/", consumers.NotificationPollConsumer.as_asgi(), name="poll"),
]
