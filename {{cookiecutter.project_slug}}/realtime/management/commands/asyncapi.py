import json

from django.conf import settings
from django.core.management import BaseCommand

from ...asyncapi import document


class Command(BaseCommand):
    help = (
        "Print the AsyncAPI 3.0 document of the websocket routes whose consumers declare "
        "their message types (realtime.messages), as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="Write it to this file instead.")

    def handle(self, *args, output=None, **options):
        text = json.dumps(
            document(settings.PROJECT_NAME, settings.PROTOCOL_VERSION),
            indent=2,
            ensure_ascii=False,
        )
        if output:
            with open(output, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        else:
            self.stdout.write(text)
