import logging

from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.routing import get_default_application
from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.utils import autoreload

from ...jobs import JobChannelLayer
from ...resolvers import iter_routes
from ...worker import Worker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run a worker for the channels of the ChannelNameRouter (all of them unless named), "
        "acknowledging each job once handled."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "channels", nargs="*", help="Channels to listen on (default: every routed one)."
        )
        parser.add_argument(
            "--layer",
            default=settings.WORKER_CHANNEL_LAYER,
            help="Channel layer alias (default: WORKER_CHANNEL_LAYER).",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.WORKER_CONCURRENCY,
            help="Jobs this process handles at once (default: WORKER_CONCURRENCY).",
        )
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Restart when the code changes, as runserver does (for development).",
        )

    def handle(self, *args, **options):
        layer = get_channel_layer(options["layer"])
        if isinstance(layer, InMemoryChannelLayer):
            raise CommandError(
                "runworker cannot receive anything through the in-memory channel layer: "
                "it lives inside one process, so nothing sent by daphne or another process "
                "reaches this worker. Set CHANNEL_LAYER=redis_pubsub or redis (and REDIS_URL) "
                "so that they share a layer."
            )
        if not isinstance(layer, JobChannelLayer):
            raise CommandError(
                f"runworker takes jobs from JobChannelLayer, and channel layer "
                f"{options['layer']!r} is {type(layer).__name__}."
            )
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")
        routes = {route.pattern: route.consumer for route in iter_routes("channel")}
        channels = options["channels"] or list(routes)
        if not channels:
            raise CommandError("No worker channels: the ChannelNameRouter in asgi.py is empty.")
        if unknown := [channel for channel in channels if channel not in routes]:
            raise CommandError(
                f"Not routed to a worker consumer: {', '.join(unknown)} "
                f"(routed: {', '.join(routes) or 'none'})."
            )
        worker = Worker(
            get_default_application(),
            channels,
            layer,
            concurrency=options["concurrency"],
            stop_timeout=settings.WORKER_STOP_TIMEOUT,
            resend_interval=settings.WORKER_RESEND_INTERVAL,
            consumer_classes=list(dict.fromkeys(routes[channel] for channel in channels)),
        )

        def run():
            # Here rather than before the reloader: its first process only watches.
            logger.info(
                "Running worker for channels %s, %d job(s) at a time, as %s",
                ", ".join(channels),
                options["concurrency"],
                worker.name,
            )
            worker.run()

        if options["reload"]:
            autoreload.run_with_reloader(run)
        else:
            run()
