"""Chinese first, English complete: the catalogues cover every string, are fully translated,
and the committed .mo files match the .po files."""

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.utils import translation

from tests.conftest import need_service

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ["zh_Hans", "en"]


def catalogue(locale: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / locale / "LC_MESSAGES" / "django.po"))


def live(po):
    return [e for e in po if not e.obsolete]


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_is_complete(locale):
    po = catalogue(locale)
    untranslated = [e.msgid for e in live(po) if not e.translated()]
    fuzzy = [e.msgid for e in live(po) if "fuzzy" in e.flags]
    assert not untranslated, untranslated[:20]
    assert not fuzzy, fuzzy[:20]


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_mo_matches_po(locale):
    po = catalogue(locale)
    mo = polib.mofile(str(ROOT / "locale" / locale / "LC_MESSAGES" / "django.mo"))

    def entries(cat):
        out = {}
        for e in cat:
            done = all(e.msgstr_plural.values()) if e.msgid_plural else bool(e.msgstr)
            if not e.msgid or e.obsolete or "fuzzy" in e.flags or not done:
                continue
            key = (e.msgctxt, e.msgid)
            out[key] = (
                tuple(e.msgstr_plural[k] for k in sorted(e.msgstr_plural))
                if e.msgid_plural
                else e.msgstr
            )
        return out

    assert entries(po) == entries(mo), "run `make messages` and commit the .mo files"


def test_zh_hans_really_is_chinese():
    po = catalogue("zh_Hans")
    latin_only = [
        e.msgid
        for e in live(po)
        if e.msgstr
        and not any("\u4e00" <= ch <= "\u9fff" for ch in e.msgstr)
        and any(c.isalpha() for c in e.msgid)
    ]
    # A few entries are legitimately Latin (file types, "NetBranch" brand in some places).
    allowed = {
        "PDF",
        "Excel (.xlsx)",
        "Word (.docx)",
        "PowerPoint (.pptx)",
        "NetBranch",
        "%(subject)s",
    }
    assert not [m for m in latin_only if m not in allowed], latin_only[:20]


def test_every_string_is_in_the_catalogue(tmp_path, monkeypatch, settings):
    """makemessages over a copy of the sources (it writes into a `locale` folder beside the
    files it scans, so it must not see the real one) finds no string the catalogue lacks."""
    need_service("GNU gettext", shutil.which("xgettext") is not None, "apt-get install gettext")
    tree = tmp_path / "src"
    shutil.copytree(
        ROOT,
        tree,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "node_modules",
            "media",
            "staticfiles",
            "tests",
            "*.sqlite3",
            "__pycache__",
        ),
    )
    settings.LOCALE_PATHS = [tree / "locale"]
    monkeypatch.chdir(tree)
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    fresh = {
        (e.msgctxt, e.msgid)
        for e in live(polib.pofile(str(tree / "locale/zh_Hans/LC_MESSAGES/django.po")))
    }
    committed = {(e.msgctxt, e.msgid) for e in live(catalogue("zh_Hans"))}
    assert fresh - committed == set(), "strings missing from the catalogue: run `make messages`"


def test_pages_switch_language(client, tree):
    client.force_login(tree.member.user)
    zh = client.get("/").content.decode()
    assert "我的支部" in zh
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    en = client.get("/").content.decode()
    assert "My branch" in en and "我的支部" not in en
    with translation.override("zh-hans"):
        from branches.models import Organization

        assert str(Organization.Kind.JOINT_BRANCH.label) == "联合党支部"


def test_upload_refusals_speak_chinese_by_default(client, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(tree.secretary)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    response = client.post("/core/editor/upload/", {"upload": fake})
    assert response.status_code == 400
    assert "图片" in response.json()["error"]["message"]


def test_chinese_first_whatever_the_browser_says(client, tree):
    client.force_login(tree.member.user)
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "我的支部" in body and 'lang="zh-hans"' in body
    client.cookies["django_language"] = "en"
    assert "My branch" in client.get("/").content.decode()
    client.cookies["django_language"] = "xx"  # unknown: back to Chinese
    assert "我的支部" in client.get("/").content.decode()
