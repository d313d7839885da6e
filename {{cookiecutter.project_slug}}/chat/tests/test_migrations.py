import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = [("chat", "0001_initial")], [("chat", "0002_message_number")]


@pytest.mark.django_db(transaction=True)
def test_messages_stored_before_numbering_are_numbered_within_their_rooms():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    OldMessage = executor.loader.project_state(BEFORE).apps.get_model("chat", "Message")
    for room in ("lobby", "kitchen", "lobby"):
        OldMessage.objects.create(room=room, author="alice", text="hi")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Message = executor.loader.project_state(AFTER).apps.get_model("chat", "Message")
    numbered = list(Message.objects.order_by("id").values_list("room", "number"))
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert numbered == [("lobby", 1), ("kitchen", 1), ("lobby", 2)]
