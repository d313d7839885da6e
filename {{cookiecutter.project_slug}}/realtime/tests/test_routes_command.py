import json
from io import StringIO

from django.core.management import call_command


def routes(*args):
    out = StringIO()
    call_command("routes", *args, stdout=out)
    return out.getvalue()


def test_text_table_has_a_section_per_protocol_and_the_django_fallback():
    text = routes()

    assert [line for line in text.splitlines() if line and not line.startswith(" ")] == [
        "websocket",
        "http",
        "channel",
    ]
    assert "pattern" in text and "middleware" in text
    assert "django.core.handlers.asgi.ASGIHandler" in text


def test_json_lists_every_route_with_its_details():
    listed = json.loads(routes("--format", "json"))

    fallback = [route for route in listed if route["pattern"] == "^"]
    assert fallback == [
        {
            "protocol": "http",
            "pattern": "^",
            "name": None,
            "consumer": "django.core.handlers.asgi.ASGIHandler",
            "middleware": ["realtime.http.BodyLimit"],
        }
    ]
    assert {route["protocol"] for route in listed} <= {"websocket", "http", "channel"}


def test_protocol_filter():
    listed = json.loads(routes("--format", "json", "--protocol", "http"))

    assert {route["protocol"] for route in listed} == {"http"}
