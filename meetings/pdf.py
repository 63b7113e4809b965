"""Server-side PDF of a paper pack, rendered by WeasyPrint (Pango and Debian's fonts-noto-cjk
must be installed: the text is set in "Noto Sans CJK SC", embedded, so the Chinese is real,
searchable text on any printer).

Pictures and stylesheets come from this site's own files only: the URL fetcher reads
`/media/...` from the default storage and `/static/...` through the static files finders or
storage, and refuses everything else (no HTTP request ever leaves the server)."""

import mimetypes
import posixpath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import default_storage
from PIL import ImageFile

# Without Pango this import fails: the views import this module only when a PDF is asked for,
# so that every other page keeps working.
from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

# Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES to True; `core`'s
# upload checks refuse truncated images and rely on Pillow's default. Put it back: the pack
# only embeds images that passed those checks.
ImageFile.LOAD_TRUNCATED_IMAGES = False

#: The pack is rendered as if it were served from here; only URLs under it are fetched.
BASE_URL = "https://pack.netbranch.invalid/"


def _prefix(url: str) -> str:
    return "/" + url.strip("/") + "/"


def _safe_name(name: str) -> str | None:
    name = unquote(name)
    if not name or "\\" in name or "\x00" in name:
        return None
    normal = posixpath.normpath(name)
    if normal != name or normal.startswith(("/", "..")):
        return None
    return normal


def _read_static(name: str) -> bytes | None:
    found = finders.find(name)
    if found:
        with open(found, "rb") as handle:
            return handle.read()
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            return handle.read()
    return None


class LocalFilesFetcher(URLFetcher):
    """WeasyPrint's fetcher limited to this site's media and static files."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" != BASE_URL:
            raise ValueError(f"not fetched (only this site's own files): {url}")
        path = parts.path
        media, static = _prefix(settings.MEDIA_URL), _prefix(settings.STATIC_URL)
        data = None
        if path.startswith(media):
            name = _safe_name(path[len(media) :])
            if name and default_storage.exists(name):
                with default_storage.open(name) as handle:
                    data = handle.read()
        elif path.startswith(static):
            name = _safe_name(path[len(static) :])
            data = _read_static(name) if name else None
        else:
            name = None
        if data is None:
            raise FileNotFoundError(path)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=data, headers={"Content-Type": content_type})


def render_pdf(html: str) -> bytes:
    """The PDF of a pack's HTML (a full document whose own stylesheets set A4 and the fonts)."""
    return HTML(string=html, base_url=BASE_URL, url_fetcher=LocalFilesFetcher()).write_pdf()
