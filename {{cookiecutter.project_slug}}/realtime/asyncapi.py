"""The project's websocket protocol as an AsyncAPI 3.0 document, from its declarations.

Every websocket route whose consumer is a MessageConsumer (realtime.messages) is a
channel: its address is the route's path, with path() converters as parameters,
and its messages are the consumer's client messages (operations the server
receives) and server messages (operations it sends), the authentication step and
error frames included. The ticket endpoint that step needs is a channel too, with
an HTTP binding. The schemas are pydantic's JSON Schemas of the message models,
under components/schemas. `manage.py asyncapi` prints it.
https://www.asyncapi.com/docs/reference/specification/v3.0.0
"""

import inspect
import re
from typing import Any

from django.urls import reverse
from django.urls.resolvers import RoutePattern
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from . import views
from .messages import MessageConsumer
from .resolvers import iter_routes
from .routing import written_route
from .tickets import Ticket

ASYNCAPI_VERSION = "3.0.0"
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def documented_routes(application=None):
    """The websocket routes whose consumer declares its messages, in routing order."""
    for route in iter_routes("websocket", application):
        if isinstance(route.consumer, type) and issubclass(route.consumer, MessageConsumer):
            yield route


def address(route):
    """(address with {parameters}, {parameter: description}), or (None, {}) when a level
    is a regex (AsyncAPI has no way to say one)."""
    parts, parameters = [], {}
    for pattern in route.patterns:
        if not isinstance(pattern, RoutePattern):
            return None, {}
        written = written_route(pattern)
        if not isinstance(written, str):
            return None, {}
        for match in CONVERTER.finditer(written):
            converter = match["converter"] or "str"
            parameters[match["name"]] = f"A path segment matched by the {converter} converter."
        parts.append(CONVERTER.sub(lambda match: "{" + match["name"] + "}", written))
    return "/" + "".join(parts), parameters


def channel_id(route, index):
    """A channel's key: the route's name (chat:room gives chat.room), else its position."""
    return (route.name or f"route{index}").replace(":", ".")


def summary(obj):
    """The first paragraph of obj's docstring, on one line."""
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def document(title, version, application=None):
    """The AsyncAPI document (a dict, ready for json.dumps) of the websocket routes."""
    routes = list(documented_routes(application))
    protocols = [route.consumer.protocol() for route in routes]
    # Each model with its schema's mode: validation for what clients send,
    # serialization for what the server sends.
    pairs: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Ticket, "serialization")}
    for client, server in protocols:
        pairs.update((model, "validation") for model in client.values())
        pairs.update((model, "serialization") for model in server.values())
    models = sorted(pairs, key=lambda pair: (pair[0].__module__, pair[0].__qualname__, pair[1]))
    refs, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    channels, operations = {}, {}
    for index, (route, (client, server)) in enumerate(zip(routes, protocols, strict=True)):
        key = channel_id(route, index)
        route_address, parameters = address(route)
        messages = {}
        directions: tuple[tuple[str, str, str, JsonSchemaMode, Any], ...] = (
            ("client", "server", "receive", "validation", client),
            ("server", "client", "send", "serialization", server),
        )
        for sender, recipient, action, mode, models_by_type in directions:
            for kind, model in models_by_type.items():
                message_key = f"{sender}-{kind}"
                messages[message_key] = {
                    "name": kind,
                    "title": f"{kind}, {sender} to {recipient}",
                    "summary": summary(model),
                    "contentType": "application/json",
                    "payload": {
                        "allOf": [refs[(model, mode)]],
                        "type": "object",
                        "properties": {"type": {"const": kind}},
                        "required": ["type"],
                    },
                }
                operations[f"{key}.{action}.{kind}"] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{key}"},
                    "messages": [{"$ref": f"#/channels/{key}/messages/{message_key}"}],
                }
        channel = {
            "address": route_address,
            "title": route.consumer.__name__,
            "description": summary(route.consumer),
            "messages": messages,
        }
        if route_address is None:
            channel["description"] += f" Path: {route.pattern}"
        if parameters:
            channel["parameters"] = {
                name: {"description": text} for name, text in parameters.items()
            }
        channels[key] = channel
    channels["realtime.ticket"], operations["realtime.ticket.issue"] = ticket_endpoint(
        refs[(Ticket, "serialization")]
    )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": (
                'Websocket frames are JSON objects with a "type"; a frame the server '
                "cannot use gets an error frame and the connection stays open. "
                "The site's own pages authenticate with the session cookie. Any other "
                "client (an app, a script, a page on another origin) gets a ticket from "
                "the realtime.ticket channel and sends it first, in an authenticate "
                "message; otherwise the socket closes: 4400 when something else comes "
                "first, 4401 when the ticket is refused (expired, used, forged, or its "
                "user changed), 4408 when none comes within 10 seconds, 4503 when it "
                "cannot be checked. 4401 also ends a socket whose login ends (logout, "
                "deactivation, password change)."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": definitions.get("$defs", {})},
    }


def ticket_endpoint(ticket_schema):
    """The ticket endpoint as a channel and its operation: (channel, operation)."""
    answer = {
        "name": "ticket",
        "title": "ticket, server to client",
        "summary": summary(Ticket),
        "contentType": "application/json",
        "payload": ticket_schema,
    }
    request = {
        "name": "ticket-request",
        "title": "ticket request, client to server",
        "summary": (
            "POST with the session cookie and Django's CSRF token (X-CSRFToken header); "
            "a client that is not logged in gets 401."
        ),
        "payload": {"type": "object", "description": "No body."},
    }
    channel = {
        "address": reverse("realtime:ticket"),
        "title": "Websocket tickets",
        "description": summary(views.ticket),
        "messages": {"ticket-request": request, "ticket": answer},
    }
    operation = {
        "action": "receive",
        "channel": {"$ref": "#/channels/realtime.ticket"},
        "messages": [{"$ref": "#/channels/realtime.ticket/messages/ticket-request"}],
        "bindings": {"http": {"method": "POST", "bindingVersion": "0.3.0"}},
        "reply": {"messages": [{"$ref": "#/channels/realtime.ticket/messages/ticket"}]},
    }
    return channel, operation
