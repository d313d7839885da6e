from django.db import models


class Message(models.Model):
    """A message posted to a room; clients get the recent ones when they (re)connect."""

    room = models.CharField(max_length=64)
    # The message's place in its room (1, 2, 3...), the id clients see: a database id
    # would let anyone count the messages of rooms they cannot enter.
    number = models.PositiveBigIntegerField()
    author = models.CharField(max_length=150)
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "number"], name="chat_message_number_in_room")
        ]

    def __str__(self):
        return f"{self.author} in {self.room}: {self.text[:40]}"

    def as_frame(self):
        return {
            "type": "message",
            "id": self.number,
            "author": self.author,
            "text": self.text,
            "timestamp": self.created.isoformat(),
        }


class Presence(models.Model):
    """One open connection to a room, kept fresh by its process (store.PresenceKeeper).

    A row whose process died goes stale and stops counting after CHAT_PRESENCE_TIMEOUT.
    """

    room = models.CharField(max_length=64, db_index=True)
    channel_name = models.CharField(max_length=255, unique=True)
    user = models.CharField(max_length=150)
    seen = models.DateTimeField()

    def __str__(self):
        return f"{self.user} in {self.room}"
