from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The project's Channels plumbing: include()-aware routing and a safer runworker."""

    name = "realtime"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
