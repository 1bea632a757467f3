"""Uploads are judged by their bytes; the copy staff see carries no metadata."""
import io

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from casework.intake.files import UploadRejected, inspect_upload

MB = 1024 * 1024


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"   # Make
    exif[0x0110] = "SecretPhone"  # Model
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0)}  # GPS
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def pdf_with_metadata() -> bytes:
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    w.add_metadata({"/Author": "Zhang San", "/Producer": "SecretOffice"})
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_photo_copy_has_no_exif_or_location():
    data = jpeg_with_gps()
    assert b"SecretPhone" in data
    clean = inspect_upload("IMG_0001.jpg", data, max_bytes=10 * MB)
    assert clean.content_type == "image/jpeg" and clean.original == data
    assert b"SecretPhone" not in clean.staff_copy
    img = Image.open(io.BytesIO(clean.staff_copy))
    assert not img.getexif() and img.size == (64, 48)


def test_pdf_copy_has_no_document_info():
    clean = inspect_upload("合同.pdf", pdf_with_metadata(), max_bytes=10 * MB)
    assert clean.content_type == "application/pdf" and clean.filename == "合同.pdf"
    assert b"Zhang San" not in clean.staff_copy
    assert len(PdfReader(io.BytesIO(clean.staff_copy)).pages) == 1


def test_type_comes_from_content_not_name():
    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, format="PNG")
    assert inspect_upload("scan.pdf", png.getvalue(), max_bytes=MB).content_type == "image/png"
    for name, data in [("photo.jpg", b"<html><script>alert(1)</script></html>"),
                       ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 100),
                       ("evidence.png", b"PK\x03\x04" + b"\x00" * 100)]:
        with pytest.raises(UploadRejected) as exc:
            inspect_upload(name, data, max_bytes=MB)
        assert exc.value.message.params["name"] == name


def test_size_limit_and_damaged_files():
    with pytest.raises(UploadRejected) as exc:
        inspect_upload("big.jpg", b"\xff\xd8\xff" + b"\x00" * (2 * MB), max_bytes=MB)
    assert exc.value.message.params["max"] == "1"
    with pytest.raises(UploadRejected):
        inspect_upload("broken.jpg", jpeg_with_gps()[:40], max_bytes=MB)
    with pytest.raises(UploadRejected):
        inspect_upload("empty.pdf", b"", max_bytes=MB)


def test_decompression_bomb_is_refused_not_decoded():
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")  # 400 megapixels, a few KB
    with pytest.raises(UploadRejected):
        inspect_upload("bomb.png", out.getvalue(), max_bytes=10 * MB)
