"""Messages numbered within their room: the ids clients see no longer count every
room's messages."""

from django.db import migrations, models


def number_messages(apps, schema_editor):
    Message = apps.get_model("chat", "Message")
    numbers: dict[str, int] = {}
    for message in Message.objects.order_by("id").only("id", "room").iterator():
        numbers[message.room] = numbers.get(message.room, 0) + 1
        Message.objects.filter(id=message.id).update(number=numbers[message.room])


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="number",
            field=models.PositiveBigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.RunPython(number_messages, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="message",
            name="chat_messag_room_47f024_idx",
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                fields=("room", "number"), name="chat_message_number_in_room"
            ),
        ),
    ]
