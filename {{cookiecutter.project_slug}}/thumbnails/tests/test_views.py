import asyncio
from datetime import timedelta
from io import BytesIO

import PIL.Image
import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from thumbnails.jobs import NOT_QUEUED, resend_lost_jobs
from thumbnails.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def empty_worker_queues():
    """Each test reads the jobs it sent, not those an earlier one left."""
    yield
    async_to_sync(channel_layers[settings.WORKER_CHANNEL_LAYER].flush)()


def upload(content, name="photo.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_bytes():
    output = BytesIO()
    PIL.Image.new("RGB", (320, 200), "orange").save(output, format="PNG")
    return output.getvalue()


def next_job(channel):
    """The next job sent to channel (the test settings' worker layer is in memory)."""
    return async_to_sync(channel_layers[settings.WORKER_CHANNEL_LAYER].receive)(channel)


def test_upload_stores_the_image_and_sends_a_job(client):
    response = client.post("/thumbnails/", {"original": upload(png_bytes())})

    assert response.status_code == 302
    image = Image.objects.get()
    assert image.status == Image.Status.PENDING
    assert next_job("thumbnails-generate") == {"type": "thumbnails.generate", "image_id": image.pk}


def test_a_file_that_is_not_an_image_is_refused_before_any_job(client):
    response = client.post("/thumbnails/", {"original": upload(b"%PDF-1.4", "doc.png")})

    assert response.status_code == 400
    assert b"Upload a valid image" in response.content
    assert not Image.objects.exists()


def test_oversized_upload_is_refused(client, settings):
    settings.THUMBNAILS_MAX_UPLOAD_BYTES = 100

    response = client.post("/thumbnails/", {"original": upload(png_bytes())})

    assert response.status_code == 400
    assert not Image.objects.exists()


def test_upload_form_is_csrf_protected():
    client = Client(enforce_csrf_checks=True)

    assert client.post("/thumbnails/", {"original": upload(png_bytes())}).status_code == 403
    assert not Image.objects.exists()


def test_the_uploader_may_delete_an_image_and_nobody_else_but_staff(client, django_user_model):
    client.post("/thumbnails/", {"original": upload(png_bytes())})
    image = Image.objects.get()
    next_job("thumbnails-generate")
    stranger, someone = Client(), django_user_model.objects.create(username="someone")
    logged_in_stranger = Client()
    logged_in_stranger.force_login(someone)

    refusals = [
        other.post(f"/thumbnails/{image.pk}/delete/").status_code
        for other in (stranger, logged_in_stranger)
    ]
    page_for_a_stranger = stranger.get("/thumbnails/").content
    page_for_the_uploader = client.get("/thumbnails/").content
    allowed = client.post(f"/thumbnails/{image.pk}/delete/")

    assert refusals == [403, 403]
    assert b"/delete/" not in page_for_a_stranger and b"/delete/" in page_for_the_uploader
    assert allowed.status_code == 302
    assert next_job("thumbnails-delete") == {"type": "thumbnails.delete", "image_id": image.pk}


def test_a_logged_in_uploader_and_staff_may_delete(client, django_user_model):
    uploader = django_user_model.objects.create(username="uploader")
    client.force_login(uploader)
    client.post("/thumbnails/", {"original": upload(png_bytes())})
    image = Image.objects.get()
    staff = Client()
    staff.force_login(django_user_model.objects.create(username="staff", is_staff=True))

    assert image.uploader == f"user-{uploader.pk}"
    assert Client().post(f"/thumbnails/{image.pk}/delete/").status_code == 403
    assert client.post(f"/thumbnails/{image.pk}/delete/").status_code == 302
    assert staff.post(f"/thumbnails/{image.pk}/delete/").status_code == 302


@pytest.mark.parametrize(
    "image_format, client_name, stored_extension",
    [
        ("PNG", "report.pdf", ".png"),
        ("JPEG", "photo.png", ".jpg"),
        ("GIF", "animation.jpeg", ".gif"),
    ],
)
def test_an_upload_is_named_after_what_it_is_not_what_the_client_says(
    client, image_format, client_name, stored_extension
):
    output = BytesIO()
    PIL.Image.new("RGB", (8, 8), "orange").save(output, format=image_format)

    client.post("/thumbnails/", {"original": upload(output.getvalue(), client_name)})

    name = Image.objects.get().original.name
    assert name is not None and name.endswith(stored_extension)


def test_an_image_format_browsers_do_not_show_is_refused(client):
    output = BytesIO()
    PIL.Image.new("RGB", (8, 8), "orange").save(output, format="TIFF")

    response = client.post("/thumbnails/", {"original": upload(output.getvalue(), "a.png")})

    assert response.status_code == 400
    assert b"not TIFF" in response.content
    assert not Image.objects.exists()


def test_images_pending_too_long_are_sent_again_and_recent_ones_not(settings):
    settings.THUMBNAILS_RESEND_AFTER = 60
    old = Image.objects.create(original="originals/old.png", owner="user-1")
    Image.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(seconds=61))
    Image.objects.create(original="originals/new.png")
    Image.objects.create(original="originals/done.png", status=Image.Status.DONE)

    resend_lost_jobs()

    assert next_job("thumbnails-generate") == {"type": "thumbnails.generate", "image_id": old.pk}
    layer = channel_layers[settings.WORKER_CHANNEL_LAYER]
    with pytest.raises(asyncio.TimeoutError):
        async_to_sync(asyncio.wait_for)(layer.receive("thumbnails-generate"), 0.1)


def test_an_upload_the_queue_refuses_is_stored_and_says_why(client, monkeypatch):
    monkeypatch.setattr("thumbnails.jobs.send_job", lambda *args, **kwargs: False)

    response = client.post("/thumbnails/", {"original": upload(png_bytes())})

    assert response.status_code == 302
    image = Image.objects.get()
    assert (image.status, image.error) == (Image.Status.PENDING, NOT_QUEUED)
    assert NOT_QUEUED in client.get("/thumbnails/").content.decode()


def test_a_re_sent_job_clears_the_note(settings):
    settings.THUMBNAILS_RESEND_AFTER = 0
    image = Image.objects.create(original="originals/late.png", error=NOT_QUEUED)

    resend_lost_jobs()

    image.refresh_from_db()
    assert image.error == ""
    assert next_job("thumbnails-generate")["image_id"] == image.pk
