"""Small files built in memory for the upload, image and view tests."""

import io
import struct
import zipfile
import zlib
from pathlib import Path

from django.conf import settings
from PIL import Image

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
MINIMAL_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n"
    b"%%EOF\n"
)
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504


def image_bytes(fmt: str = "PNG", size=(64, 48), mode: str = "RGB", **save) -> bytes:
    color = {"RGB": (180, 20, 20), "RGBA": (180, 20, 20, 128), "L": 128, "1": 1, "P": 3}[mode]
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG made by Pillow whose header is then patched to declare width x height."""
    data = bytearray(image_bytes("PNG", size=(8, 8), mode="L"))
    # Signature (8) + IHDR length (4) + b"IHDR" (4): width and height follow, then 5 bytes.
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


def ooxml_bytes(kind: str = "word", *, extra: dict[str, bytes] | None = None) -> bytes:
    main = {"word": "word/document.xml", "xl": "xl/workbook.xml", "ppt": "ppt/presentation.xml"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"/>',
        )
        archive.writestr(main[kind], "<document/>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
