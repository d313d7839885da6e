import json

from django.core.management import BaseCommand

from ...resolvers import PROTOCOLS, describe, iter_routes


def short_name(obj):
    return describe(obj).rsplit(".", 1)[-1]


class Command(BaseCommand):
    help = "List every Channels route per protocol: pattern, name, consumer, middleware."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument(
            "--protocol",
            choices=PROTOCOLS,
            action="append",
            help="Only this protocol (repeatable).",
        )

    def handle(self, *args, **options):
        protocols = options["protocol"] or PROTOCOLS
        routes = [route for protocol in protocols for route in iter_routes(protocol)]
        if options["format"] == "json":
            self.stdout.write(json.dumps([route.as_dict() for route in routes], indent=2))
            return
        for protocol in protocols:
            rows = [
                (
                    route.pattern,
                    route.name or "-",
                    describe(route.consumer),
                    " > ".join(short_name(layer) for layer in route.middleware) or "-",
                )
                for route in routes
                if route.protocol == protocol
            ]
            self.stdout.write(self.style.MIGRATE_HEADING(protocol))
            self.write_table(("pattern", "name", "consumer", "middleware"), rows)

    def write_table(self, header, rows):
        if not rows:
            self.stdout.write("  (no routes)\n")
            return
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        for row in (header, *rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
        self.stdout.write("")
