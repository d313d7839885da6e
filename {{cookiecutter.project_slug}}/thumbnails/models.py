from django.db import models


class Image(models.Model):
    """An uploaded image and the thumbnail the worker makes of it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    original = models.FileField(upload_to="originals/")
    thumbnail = models.FileField(upload_to="thumbnails/", blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    error = models.TextField(blank=True)
    # Who uploaded it (see realtime.jobs.owner_of): workers take turns among owners.
    owner = models.CharField(max_length=64, blank=True)
    # Who may delete it besides staff, and hears when it is done: the user, or for a
    # guest the browser session (realtime.sessions.identity_of()).
    uploader = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Not stored: whether the visitor may delete it, set by the index view for its page.
    deletable: bool

    def __str__(self):
        return self.original.name

    def as_dict(self):
        return {
            "id": self.pk,
            "name": self.original.name,
            "status": self.status,
            "error": self.error,
            "thumbnail": self.thumbnail.url if self.thumbnail else None,
        }
