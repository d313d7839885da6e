"""The AsyncAPI document, from the message types consumers declare."""

from channels.routing import ProtocolTypeRouter
from django.core.management import call_command
from django.urls import include

from ..asyncapi import document
from ..paths import path, re_path
from ..routing import URLRouter
from .test_messages import Calculator, GreetedCalculator


def application(routes):
    return ProtocolTypeRouter({"websocket": URLRouter(routes)})


def test_each_declaring_route_is_a_channel_with_its_messages_both_ways():
    routes = [
        path(
            "calc/<int:precision>/",
            include([path("<slug:mode>/", Calculator.as_asgi(), name="calc")]),
        ),
        path("greeted/", GreetedCalculator.as_asgi()),
    ]

    doc = document("Calculators", "2.1.0", application(routes))

    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] == "Calculators" and doc["info"]["version"] == "2.1.0"
    calc = doc["channels"]["calc"]
    assert calc["address"] == "/calc/{precision}/{mode}/"
    assert set(calc["parameters"]) == {"precision", "mode"}
    assert set(calc["messages"]) == {
        "client-authenticate",
        "client-add",
        "client-math.reset",
        "server-authenticated",
        "server-error",
    }
    assert set(doc["channels"]["route1"]["messages"]) >= {"client-hello"}
    assert doc["operations"]["calc.receive.add"]["action"] == "receive"
    assert doc["operations"]["calc.send.error"]["action"] == "send"
    add = calc["messages"]["client-add"]["payload"]
    assert add["properties"]["type"] == {"const": "add"}
    schema = doc["components"]["schemas"][add["allOf"][0]["$ref"].rsplit("/", 1)[-1]]
    assert schema["required"] == ["a", "b"] and schema["properties"]["b"]["minimum"] == 0


def test_routes_of_other_consumers_are_left_out_and_regex_routes_have_no_address():
    async def plain_app(scope, receive, send):
        pass

    routes = [re_path(r"^calc/(?P<mode>\w+)/$", Calculator.as_asgi()), path("plain/", plain_app)]

    doc = document("Calculators", "1.0.0", application(routes))

    assert list(doc["channels"]) == ["route0", "realtime.ticket"]
    assert doc["channels"]["route0"]["address"] is None


def test_the_command_writes_the_projects_document(tmp_path, settings):
    output = tmp_path / "asyncapi.json"

    call_command("asyncapi", output=str(output))

    assert f'"title": "{settings.PROJECT_NAME}"' in output.read_text()


def test_the_ticket_endpoint_is_described_with_its_answer():
    doc = document("Calculators", "1.0.0", application([]))

    ticket = doc["channels"]["realtime.ticket"]
    assert ticket["address"] == "/realtime/ticket/"
    operation = doc["operations"]["realtime.ticket.issue"]
    assert operation["bindings"]["http"]["method"] == "POST"
    answer = ticket["messages"]["ticket"]["payload"]["$ref"].rsplit("/", 1)[-1]
    assert set(doc["components"]["schemas"][answer]["required"]) == {"ticket", "expires_in"}
