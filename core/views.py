from django.http import JsonResponse
from django.views.decorators.http import require_POST


@require_POST
def ckeditor_upload(request):
    """CKEditor 5's image upload endpoint (stub: completed with core's upload checks)."""
    return JsonResponse({"error": {"message": "not ready"}}, status=400)
