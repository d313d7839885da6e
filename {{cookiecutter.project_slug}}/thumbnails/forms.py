from django import forms
from django.conf import settings

from .models import Image


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
        return upload
