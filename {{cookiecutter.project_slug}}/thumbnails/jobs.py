"""Sending jobs to the thumbnail worker (python manage.py runworker thumbnails-generate
thumbnails-delete), after the current transaction commits so the worker finds the record."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def send_job(channel, job):
    transaction.on_commit(lambda: async_to_sync(get_channel_layer().send)(channel, job))


def request_thumbnail(image_id):
    send_job("thumbnails-generate", {"type": "thumbnails.generate", "image_id": image_id})


def request_deletion(image_id):
    send_job("thumbnails-delete", {"type": "thumbnails.delete", "image_id": image_id})
