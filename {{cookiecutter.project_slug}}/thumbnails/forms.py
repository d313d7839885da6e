from pathlib import Path

from django import forms
from django.conf import settings

from .models import Image

# The formats browsers show, and the extension each is stored under: the name says
# what Pillow found in the file, whatever the client called it, so that it is
# served with the right Content-Type (a PNG named .pdf is no PDF).
WEB_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}


class UploadForm(forms.ModelForm):
    # ImageField opens the upload with Pillow: files that are not images stop here.
    original = forms.ImageField(label="Image")

    class Meta:
        model = Image
        fields = ["original"]

    def clean_original(self):
        upload = self.cleaned_data["original"]
        limit = settings.THUMBNAILS_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"Images are at most {limit // (1024 * 1024)} MB.")
        # ImageField has opened the file with Pillow and noted what it found.
        found = upload.image.format
        if found not in WEB_FORMATS:
            raise forms.ValidationError(f"Upload a PNG, JPEG, GIF or WebP image, not {found}.")
        upload.name = f"{Path(upload.name).stem or 'image'}.{WEB_FORMATS[found]}"
        return upload
