"""Jobs for the thumbnail worker, sent once the current transaction commits so that the
worker finds the record.

Each job is keyed by its image: sending it again while it is queued or running queues
nothing, which lets resend_lost_jobs() send every long-pending image again safely.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from realtime.jobs import send_job

from .models import Image
from .routings import DELETE_CHANNEL, GENERATE_CHANNEL

# What a pending image shows while its job waits outside the queue.
NOT_QUEUED = "not queued yet (the job queue is full or unreachable); it will be sent again"


def send_thumbnail_job(image):
    queued = send_job(
        GENERATE_CHANNEL,
        {"type": "thumbnails.generate", "image_id": image.pk},
        key=f"generate-{image.pk}",
        owner=image.owner,
    )
    note = "" if queued else NOT_QUEUED
    if image.error != note:
        image.error = note
        Image.objects.filter(pk=image.pk, status=Image.Status.PENDING).update(error=note)


def request_thumbnail(image):
    transaction.on_commit(lambda: send_thumbnail_job(image))


def request_deletion(image):
    job = {"type": "thumbnails.delete", "image_id": image.pk}
    key = f"delete-{image.pk}"
    transaction.on_commit(lambda: send_job(DELETE_CHANNEL, job, key=key, owner=image.owner))


def resend_lost_jobs():
    """Send again the job of every image pending longer than THUMBNAILS_RESEND_AFTER.

    The database, not Redis, is the record of what is left to do: a job may have been
    lost before it reached the transport (Redis away, or the channel full) or in it
    (Redis restarted without its append-only file). Those still queued are not
    queued twice (the job key), and one that runs twice finds its image done.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.THUMBNAILS_RESEND_AFTER)
    for image in Image.objects.filter(status=Image.Status.PENDING, created__lt=cutoff):
        send_thumbnail_job(image)
