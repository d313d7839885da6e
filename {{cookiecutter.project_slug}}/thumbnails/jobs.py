"""Sending jobs to the thumbnail worker (python manage.py runworker thumbnails-generate
thumbnails-delete), after the current transaction commits so the worker finds the record."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction


def worker_layer():
    """The layer runworker reads: one whose messages wait for a worker to take them."""
    return get_channel_layer(getattr(settings, "WORKER_CHANNEL_LAYER", "default"))


def send_job(channel, job):
    transaction.on_commit(lambda: async_to_sync(worker_layer().send)(channel, job))


def request_thumbnail(image_id):
    send_job("thumbnails-generate", {"type": "thumbnails.generate", "image_id": image_id})


def request_deletion(image_id):
    send_job("thumbnails-delete", {"type": "thumbnails.delete", "image_id": image_id})
