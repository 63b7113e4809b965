"""Upload checks: size limits, real image verification, EXIF stripping, document sniffing.

(Stub: completed by the core building-blocks work.)
"""

from django.db import models


class CheckedImageField(models.ImageField):
    """An ImageField whose uploads go through `validate_image` (format, size, bomb, EXIF)."""
