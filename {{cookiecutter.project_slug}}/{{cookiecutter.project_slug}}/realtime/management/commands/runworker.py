from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.management.commands import runworker
from django.core.management import CommandError

from ...worker import Worker


class Command(runworker.Command):
    """Channels' runworker, refusing a layer that could never bring it a message, and
    running a worker that survives malformed messages and Redis outages."""

    worker_class = Worker

    def handle(self, *args, **options):
        if isinstance(get_channel_layer(options["layer"]), InMemoryChannelLayer):
            raise CommandError(
                "runworker cannot receive anything through the in-memory channel layer: "
                "it lives inside one process, so nothing sent by daphne or another process "
                "reaches this worker. Set CHANNEL_LAYER=redis (and REDIS_URL) so that they "
                "share a layer."
            )
        super().handle(*args, **options)
