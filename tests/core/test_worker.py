"""Renditions made by a real Celery worker on Redis (eager mode hides broker and
serialisation problems)."""

import time

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core import images
from core.tasks import make_image_renditions
from tests.core.media_helpers import image_bytes


def test_a_real_worker_makes_the_renditions(celery_worker_process, settings):
    name = default_storage.save(
        "sites/worker-test.jpg", ContentFile(image_bytes("JPEG", size=(1400, 700)))
    )
    make_image_renditions.apply_async(args=[name], queue=celery_worker_process.queue)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(images.rendition_urls(name)) < 2:
        time.sleep(0.2)
    assert set(images.rendition_urls(name)) == {480, 1080}, (
        celery_worker_process.log_path.read_text()
    )
