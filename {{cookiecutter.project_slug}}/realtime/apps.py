from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The project's Channels plumbing: include()-aware routing and a safer runworker."""

    name = "realtime"

    def ready(self):
        # Registered on import: the system checks, and the logout signal's receiver.
        from . import checks, sessions  # noqa: F401
