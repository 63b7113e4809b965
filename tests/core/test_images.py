"""core.images, core.tasks and {% picture %}: WebP renditions, never upscaled, made once."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template import Context, Template, TemplateSyntaxError
from PIL import Image

from branches.models import ProjectSite
from core.images import make_renditions, rendition_name, rendition_urls, schedule_renditions
from core.tasks import make_image_renditions
from tests.core.media_helpers import image_bytes

SIZES = "(max-width: 760px) 100vw, 760px"


def store(name: str, *, size=(1200, 800), fmt="JPEG") -> str:
    return default_storage.save(name, ContentFile(image_bytes(fmt, size=size)))


def stored_size(name: str) -> tuple[int, int]:
    with default_storage.open(name, "rb") as fh:
        img = Image.open(io.BytesIO(fh.read()))
        assert img.format == "WEBP"
        return img.size


def test_rendition_name_is_deterministic():
    assert rendition_name("sites/2025/01/foo.jpg", 480) == "sites/2025/01/foo.w480.webp"
    assert rendition_name("a.b/foo", 1080) == "a.b/foo.w1080.webp"


def test_renditions_are_made_beside_the_original():
    name = store("sites/2025/01/wide.jpg")
    written = make_renditions(name)
    assert written == ["sites/2025/01/wide.w480.webp", "sites/2025/01/wide.w1080.webp"]
    assert stored_size(written[0]) == (480, 320)
    assert stored_size(written[1]) == (1080, 720)
    assert rendition_urls(name) == {
        480: "/media/sites/2025/01/wide.w480.webp",
        1080: "/media/sites/2025/01/wide.w1080.webp",
    }


def test_small_images_are_never_upscaled():
    name = store("editor/small.png", size=(600, 300), fmt="PNG")
    assert make_renditions(name) == ["editor/small.w480.webp"]
    assert stored_size("editor/small.w480.webp") == (480, 240)
    assert list(rendition_urls(name)) == [480]

    tiny = store("editor/tiny.png", size=(100, 50), fmt="PNG")
    assert make_renditions(tiny) == []
    assert rendition_urls(tiny) == {}


def test_renditions_are_idempotent():
    name = store("sites/again.jpg")
    assert len(make_renditions(name)) == 2
    before = {w: default_storage.get_modified_time(rendition_name(name, w)) for w in (480, 1080)}
    assert make_renditions(name) == []
    assert make_image_renditions(name) == []
    after = {w: default_storage.get_modified_time(rendition_name(name, w)) for w in (480, 1080)}
    assert before == after
    _dirs, files = default_storage.listdir("sites")
    assert sorted(files) == ["again.jpg", "again.w1080.webp", "again.w480.webp"]


def test_missing_or_broken_originals_are_skipped():
    assert make_renditions("nowhere/none.jpg") == []
    name = default_storage.save("editor/broken.jpg", ContentFile(b"not an image at all"))
    assert make_renditions(name) == []
    assert make_renditions("") == []


def test_transparency_is_kept():
    name = default_storage.save(
        "editor/alpha.png", ContentFile(image_bytes("PNG", size=(800, 400), mode="RGBA"))
    )
    make_renditions(name)
    with default_storage.open(rendition_name(name, 480), "rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).mode == "RGBA"


def test_task_runs_through_celery_eagerly():
    name = store("sites/task.jpg")
    make_image_renditions.delay(name)
    assert set(rendition_urls(name)) == {480, 1080}


@pytest.mark.django_db
def test_schedule_renditions_waits_for_commit(django_capture_on_commit_callbacks):
    name = store("sites/commit.jpg")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        schedule_renditions(name)
    assert len(callbacks) == 1
    assert rendition_urls(name) == {}  # nothing before the commit
    callbacks[0]()
    assert set(rendition_urls(name)) == {480, 1080}


# --- {% picture %} --------------------------------------------------------------------------


def render(template: str, **context) -> str:
    return Template("{% load media %}" + template).render(Context(context))


@pytest.mark.django_db
def test_picture_renders_srcset_lazy_and_escaped(django_assert_num_queries):
    name = store("sites/2025/01/photo.jpg")
    make_renditions(name)
    site = ProjectSite(name="x", photo=name)
    with django_assert_num_queries(0):
        html = render(
            '{% picture site.photo alt=alt sizes=sizes class="photo wide" %}',
            site=site,
            alt='Site "A" <script>alert(1)</script>',
            sizes=SIZES,
        )
    assert html.startswith("<img ") and html.endswith(">")
    assert 'src="/media/sites/2025/01/photo.w1080.webp"' in html
    assert (
        'srcset="/media/sites/2025/01/photo.w480.webp 480w, '
        '/media/sites/2025/01/photo.w1080.webp 1080w"'
    ) in html
    assert 'sizes="(max-width: 760px) 100vw, 760px"' in html
    assert 'loading="lazy"' in html and 'decoding="async"' in html
    assert 'class="photo wide"' in html
    assert 'alt="Site &quot;A&quot; &lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "<script>" not in html


@pytest.mark.django_db
def test_picture_offers_the_original_when_it_is_narrower_than_the_widest_rendition(
    django_assert_num_queries,
):
    name = store("sites/mid.jpg", size=(800, 600))
    make_renditions(name)
    site = ProjectSite(name="x", photo=name)
    with django_assert_num_queries(0):
        html = render('{% picture site.photo alt="mid" %}', site=site)
    assert 'srcset="/media/sites/mid.w480.webp 480w, /media/sites/mid.jpg 800w"' in html
    assert 'src="/media/sites/mid.jpg"' in html


@pytest.mark.django_db
def test_picture_before_renditions_exist_shows_the_original(django_assert_num_queries):
    name = store("sites/fresh.jpg")
    with django_assert_num_queries(0):
        html = render('{% picture site.photo alt="" %}', site=ProjectSite(name="x", photo=name))
    # The intrinsic size as width and height: the browser keeps the image's place meanwhile.
    assert html == (
        '<img src="/media/sites/fresh.jpg" alt="" width="1200" height="800" loading="lazy" '
        'decoding="async">'
    )


@pytest.mark.django_db
def test_picture_of_an_empty_file_renders_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert render('{% picture site.photo alt="x" %}', site=ProjectSite(name="x")) == ""
        assert render('{% picture nothing alt="x" %}') == ""


def test_picture_accepts_a_storage_name():
    name = store("editor/by-name.jpg")
    make_renditions(name)
    html = render('{% picture name alt="n" loading="eager" %}', name=name)
    assert "480w" in html and 'loading="eager"' in html


def test_picture_refuses_unknown_arguments():
    with pytest.raises(TemplateSyntaxError):
        render('{% picture name onerror="alert(1)" %}', name="x.jpg")
