from django.db import models


class Notification(models.Model):
    """An event published on a stream; ids only grow, so clients resume from the last one.

    A public stream has a name and no recipient; a private one, a recipient ("user-<pk>"
    or "guest-<id>", realtime.sessions.identity_of()) and no name.
    """

    stream = models.CharField(max_length=64, blank=True)
    recipient = models.CharField(max_length=64, blank=True)
    data = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["stream", "id"]),
            models.Index(fields=["recipient", "id"]),
        ]

    def __str__(self):
        where = f"to {self.recipient}" if self.recipient else f"on {self.stream}"
        return f"#{self.pk} {where}"

    def as_dict(self):
        return {"id": self.pk, "data": self.data, "created": self.created.isoformat()}
