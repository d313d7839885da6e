from importlib import import_module

import pytest
from django.apps import apps

from chat.models import Message

number_messages = import_module("chat.migrations.0002_message_number").number_messages


@pytest.mark.django_db
def test_messages_stored_before_numbering_are_numbered_within_their_rooms():
    # 0002 numbers them by the order they were stored, whatever number they hold (0
    # for all, there, before the constraint that keeps numbers unique in a room).
    Message.objects.bulk_create(
        Message(room=room, number=1000 + index, author="alice", text="hi")
        for index, room in enumerate(["lobby", "kitchen", "lobby"])
    )

    number_messages(apps, schema_editor=None)

    numbered = list(Message.objects.order_by("id").values_list("room", "number"))
    assert numbered == [("lobby", 1), ("kitchen", 1), ("lobby", 2)]
