from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from core.images import schedule_renditions
from core.uploads import validate_image


def _error(message: str, *, status: int) -> JsonResponse:
    """CKEditor 5's upload adapter shows `error.message` to the editor."""
    return JsonResponse({"error": {"message": message}}, status=status)


@require_POST
@csrf_protect
def ckeditor_upload(request):
    """CKEditor 5's image upload endpoint: staff only, the image checked and cleaned by
    `validate_image`, stored as `editor/<year>/<month>/<uuid>.<ext>`, renditions scheduled.
    CKEditor sends the CSRF token in the X-CSRFToken header."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return _error(_("Only branch secretaries and staff may upload images."), status=403)
    upload = request.FILES.get("upload")
    if upload is None:
        return _error(
            _("No image was sent. Choose a JPEG, PNG, WebP or GIF image to upload."), status=400
        )
    try:
        cleaned = validate_image(upload)
    except ValidationError as exc:
        return _error(" ".join(exc.messages), status=400)
    name = default_storage.save(f"editor/{timezone.localdate():%Y/%m}/{cleaned.name}", cleaned)
    schedule_renditions(name)
    return JsonResponse({"url": default_storage.url(name)})
