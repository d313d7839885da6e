from functools import partial

from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.management.commands import runworker
from django.conf import settings
from django.core.management import CommandError
from django.utils import autoreload

from ...worker import Worker


class Command(runworker.Command):
    """Channels' runworker, refusing a layer that could never bring it a message, and
    running a worker that survives malformed messages and Redis outages."""

    worker_class = Worker

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Worker channels live on their own layer (see WORKER_CHANNEL_LAYER in settings).
        parser.set_defaults(layer=settings.WORKER_CHANNEL_LAYER)
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Restart when the code changes, as runserver does (for development).",
        )

    def handle(self, *args, **options):
        if isinstance(get_channel_layer(options["layer"]), InMemoryChannelLayer):
            raise CommandError(
                "runworker cannot receive anything through the in-memory channel layer: "
                "it lives inside one process, so nothing sent by daphne or another process "
                "reaches this worker. Set CHANNEL_LAYER=redis (and REDIS_URL) so that they "
                "share a layer."
            )
        if options["reload"]:
            autoreload.run_with_reloader(partial(super().handle, *args, **options))
        else:
            super().handle(*args, **options)
