from io import BytesIO

import PIL.Image
import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from thumbnails.jobs import worker_layer
from thumbnails.models import Image

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(content, name="photo.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_bytes():
    output = BytesIO()
    PIL.Image.new("RGB", (320, 200), "orange").save(output, format="PNG")
    return output.getvalue()


def next_job(channel):
    return async_to_sync(worker_layer().receive)(channel)


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


def test_delete_sends_a_job(client):
    image = Image.objects.create(original="originals/photo.png")

    response = client.post(f"/thumbnails/{image.pk}/delete/")

    assert response.status_code == 302
    assert next_job("thumbnails-delete") == {"type": "thumbnails.delete", "image_id": image.pk}
