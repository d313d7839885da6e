from django.db import models


class Notification(models.Model):
    """An event published on a stream; ids only grow, so clients resume from the last one."""

    stream = models.CharField(max_length=64)
    data = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["stream", "id"])]

    def __str__(self):
        return f"#{self.pk} on {self.stream}"

    def as_dict(self):
        return {"id": self.pk, "data": self.data, "created": self.created.isoformat()}
