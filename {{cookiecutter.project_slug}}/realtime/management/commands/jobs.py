import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management import BaseCommand, CommandError

from ...jobs import JobChannelLayer
from ...resolvers import iter_routes

COLUMNS = ("queued", "in_flight", "done", "retried", "dead_lettered", "oldest_age")


class Command(BaseCommand):
    help = (
        "Per worker channel: jobs queued, in flight, retried and dead-lettered, and the age "
        "of the oldest; with --dead, the newest dead letters and why they failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="One JSON object, by channel.")
        parser.add_argument(
            "--dead", action="store_true", help="List the newest dead letters of each channel."
        )

    def handle(self, *args, **options):
        layer = get_channel_layer(settings.WORKER_CHANNEL_LAYER)
        if not isinstance(layer, JobChannelLayer):
            raise CommandError(f"Worker jobs are on {type(layer).__name__}, which keeps no queue.")
        channels = [route.pattern for route in iter_routes("channel")]
        stats = {channel: async_to_sync(layer.stats)(channel) for channel in channels}
        if options["json"]:
            self.stdout.write(json.dumps(stats))
        else:
            self.write_table(stats)
        if options["dead"]:
            for channel in channels:
                for message, owner, attempts, error in async_to_sync(layer.dead_letters)(channel):
                    self.stdout.write(f"{channel}  {message!r}  {error}  ({attempts}, {owner})")

    def write_table(self, stats):
        width = max([len("channel"), *map(len, stats)])
        header = ["channel".ljust(width), *(column.replace("_", " ") for column in COLUMNS)]
        self.stdout.write("  ".join(header))
        for channel, figures in stats.items():
            age = figures["oldest_age"]
            cells = [str(figures[column]).rjust(len(column)) for column in COLUMNS[:-1]]
            cells.append("-" if age is None else f"{age:.0f} s")
            self.stdout.write("  ".join([channel.ljust(width), *cells]))
