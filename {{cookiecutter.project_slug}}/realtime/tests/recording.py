"""Consumers for routing tests: they accept everything and keep the scope they saw."""

from collections.abc import Mapping
from typing import Any

from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

seen_scopes: list[Mapping[str, Any]] = []


class RecordingConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        seen_scopes.append(self.scope)
        await self.accept()


class RecordingHttpConsumer(AsyncHttpConsumer):
    async def handle(self, body):
        seen_scopes.append(self.scope)
        await self.send_response(200, b"ok")
