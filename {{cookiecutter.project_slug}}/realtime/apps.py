from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The project's Channels plumbing: include()-aware routing and a safer runworker."""

    name = "realtime"

    def ready(self):
        # Registered on import: the system checks, and the receivers that end sockets.
        from . import checks, sessions, users  # noqa: F401
