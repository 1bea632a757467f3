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


# --- issue 17, item 3: nothing of the reporter's metadata reaches the staff copy ------------------

MARKERS = {
    "xmp": "MarkXmpDocument17", "info": "MarkInfoAuthor17", "pieceinfo": "MarkPieceInfo17",
    "annot_author": "MarkAnnotAuthor17", "page_aa_js": "MarkPageAaJs17", "open_action_js": "MarkOpenActionJs17",
    "names_js": "MarkNamesJs17", "embedded_file": "MarkEmbeddedFile17", "file_attachment": "MarkFileAnnot17",
    "jpeg_exif": "MarkJpegExifMake17", "jpeg_gps": "MarkJpegGpsDatum17", "jpeg_com": "MarkJpegComment17",
    "image_xmp": "MarkImageXmp17", "inline_jpeg_com": "MarkInlineJpegComment17",
}


def jpeg_with_everything(prefix: str = "") -> bytes:
    """A photo with EXIF (make, GPS position and datum) and a COM comment."""
    img = Image.new("RGB", (64, 48), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = prefix + MARKERS["jpeg_exif"]  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0), 3: "E", 4: (116.0, 23.0, 0.0), 0x12: prefix + MARKERS["jpeg_gps"]}
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif, comment=(prefix + MARKERS["jpeg_com"]).encode())
    return out.getvalue()


def pdf_with_everything() -> bytes:
    """A PDF with a distinct marker in each place a reporter's identity can hide."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    jpeg = jpeg_with_everything()
    image = pdf.make_stream(jpeg, Type=Name.XObject, Subtype=Name.Image, Width=64, Height=48,
                            ColorSpace=Name.DeviceRGB, BitsPerComponent=8, Filter=Name.DCTDecode)
    image.Metadata = pdf.make_stream(f"<x:xmpmeta>{MARKERS['image_xmp']}</x:xmpmeta>".encode())
    page.obj.Resources = Dictionary(XObject=Dictionary(Im0=image))
    small = io.BytesIO()  # an inline image (BI ... ID ... EI), a JPEG with a comment
    Image.new("RGB", (8, 8), (200, 0, 0)).save(small, format="JPEG", comment=MARKERS["inline_jpeg_com"].encode())
    page.obj.Contents = pdf.make_stream(b"q 64 0 0 48 10 10 cm /Im0 Do Q q 8 0 0 8 100 10 cm "
                                        b"BI /W 8 /H 8 /CS /RGB /BPC 8 /F /DCT ID " + small.getvalue() + b" EI Q")
    page.obj.PieceInfo = Dictionary(Office=Dictionary(Private=String(MARKERS["pieceinfo"]),
                                                      LastModified=String("D:20260101")))
    page.obj.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String(f"app.alert('{MARKERS['page_aa_js']}')")))
    embedded = pdf.make_stream(MARKERS["file_attachment"].encode(), Type=Name.EmbeddedFile)
    page.obj.Annots = Array([
        pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Text, Rect=Array([10, 150, 30, 170]),
                                     T=String(MARKERS["annot_author"]), Contents=String("note"))),
        pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([40, 150, 60, 170]),
                                     T=String(MARKERS["annot_author"]),
                                     FS=Dictionary(Type=Name.Filespec, F=String("a.txt"), EF=Dictionary(F=embedded)))),
    ])
    pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String(f"app.alert('{MARKERS['open_action_js']}')"))
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([
        String("init"), Dictionary(S=Name.JavaScript, JS=String(MARKERS["names_js"]))])))
    pdf.attachments["evidence.txt"] = pikepdf.AttachedFileSpec(pdf, MARKERS["embedded_file"].encode())
    pdf.Root.PieceInfo = Dictionary(Office=Dictionary(Private=String(MARKERS["pieceinfo"])))
    pdf.docinfo["/Author"] = MARKERS["info"]
    pdf.Root.Metadata = pdf.make_stream(
        f'<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{MARKERS["xmp"]}</dc:creator>'
        f'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'.encode(), Type=Name.Metadata, Subtype=Name.XML)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def every_byte_of(pdf_bytes: bytes) -> bytes:
    """The PDF as stored, plus every stream decoded (Flate, object streams) and every object
    written out uncompressed, plus each JPEG's EXIF, GPS and comment as Pillow reads them."""
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(pdf_bytes))
    plain = io.BytesIO()
    pdf.save(plain, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable,
             stream_decode_level=pikepdf.StreamDecodeLevel.generalized)
    parts = [pdf_bytes, plain.getvalue()]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            parts.append(obj.read_raw_bytes())
            try:
                parts.append(obj.read_bytes())
            except pikepdf.PdfError:
                pass
            if obj.get("/Subtype") == "/Image" and obj.get("/Filter") == "/DCTDecode":
                img = Image.open(io.BytesIO(obj.read_raw_bytes()))
                parts.append(repr(img.info).encode() + repr(dict(img.getexif())).encode())
                parts.append(repr(img.getexif().get_ifd(0x8825)).encode())
    return b"\n".join(parts)


def test_the_staff_copy_of_a_pdf_keeps_none_of_its_metadata():
    original = pdf_with_everything()
    seen = every_byte_of(original)
    for where, marker in MARKERS.items():  # the check can see each marker where it was planted
        assert marker.encode() in seen, where
    clean = inspect_upload("证据.pdf", original, max_bytes=10 * MB)
    assert clean.original == original
    left = every_byte_of(clean.staff_copy)
    assert [where for where, marker in MARKERS.items() if marker.encode() in left] == []
    import pikepdf

    pdf = pikepdf.open(io.BytesIO(clean.staff_copy))
    assert len(pdf.pages) == 1 and "/Annots" not in pdf.pages[0].obj and "/AA" not in pdf.pages[0].obj
    assert set(pdf.Root.keys()) == {"/Type", "/Pages"} and "/Info" not in pdf.trailer
    images = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"]
    assert len(images) == 1  # the photo is still on the page, re-encoded without EXIF or comment
    photo = Image.open(io.BytesIO(images[0].read_raw_bytes()))
    assert photo.size == (64, 48) and not photo.getexif() and "comment" not in photo.info
    assert "/Metadata" not in images[0]
    inline = [i.iimage for i in pikepdf.parse_content_stream(pdf.pages[0]) if isinstance(i, pikepdf.ContentStreamInlineImage)]
    assert len(inline) == 1 and inline[0].as_pil_image().getpixel((4, 4)) == (200, 0, 0)


def test_the_staff_copy_of_an_image_is_its_pixels_only():
    jpeg = jpeg_with_everything()
    png, webp = io.BytesIO(), io.BytesIO()
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Author", MARKERS["info"])
    text.add_itxt("XML:com.adobe.xmp", MARKERS["xmp"])
    Image.new("RGB", (40, 30), (5, 6, 7)).save(png, format="PNG", pnginfo=text)
    exif = Image.Exif()
    exif[0x010F] = MARKERS["jpeg_exif"]
    Image.new("RGB", (40, 30), (5, 6, 7)).save(webp, format="WEBP", exif=exif, xmp=MARKERS["xmp"].encode())
    for name, data in (("IMG_1.jpg", jpeg), ("scan.png", png.getvalue()), ("photo.webp", webp.getvalue())):
        assert any(marker.encode() in data for marker in MARKERS.values()), name
        clean = inspect_upload(name, data, max_bytes=10 * MB)
        assert [where for where, marker in MARKERS.items() if marker.encode() in clean.staff_copy] == [], name
        img = Image.open(io.BytesIO(clean.staff_copy))
        assert not img.getexif(), name
        assert not {"comment", "exif", "xmp", "XML:com.adobe.xmp", "Author", "icc_profile"} & set(img.info), name


def test_a_forty_megapixel_webp_is_refused_from_its_header_fast():
    import time

    data = io.BytesIO()
    Image.new("RGB", (8000, 5000), (250, 250, 250)).save(data, format="WEBP", quality=1, method=0)
    assert len(data.getvalue()) < 200 * 1024  # small on disk, 40 megapixels decoded
    started = time.monotonic()
    for _ in range(5):
        with pytest.raises(UploadRejected) as exc:
            inspect_upload("big.webp", data.getvalue(), max_bytes=10 * MB)
        assert exc.value.message.params["file"] == 25
    assert time.monotonic() - started < 1.0


def test_one_request_decodes_at_most_its_pixel_budget():
    from casework.intake.files import REQUEST_PIXELS, UploadBudget

    photo = io.BytesIO()
    Image.new("RGB", (5000, 4000), (1, 2, 3)).save(photo, format="JPEG", quality=10)  # 20 megapixels
    budget = UploadBudget()
    for _ in range(REQUEST_PIXELS // 20_000_000):
        inspect_upload("p.jpg", photo.getvalue(), max_bytes=10 * MB, budget=budget)
    with pytest.raises(UploadRejected) as exc:
        inspect_upload("p.jpg", photo.getvalue(), max_bytes=10 * MB, budget=budget)
    assert "megapixels" in exc.value.message.msgid


def test_cleaning_past_its_time_is_stopped_and_refused():
    """A legitimate 24-megapixel WebP takes the child about a second or more to decode and encode
    again; with 0.3 s left in the request's budget the child is killed then and the file refused."""
    from casework.intake.files import UploadBudget
    import time

    webp = io.BytesIO()
    Image.new("RGB", (6000, 4000), (120, 60, 30)).save(webp, format="WEBP", quality=1, method=0)
    budget = UploadBudget(deadline=time.monotonic() + 0.3)
    started = time.monotonic()
    with pytest.raises(UploadRejected) as exc:
        inspect_upload("IMG_1.webp", webp.getvalue(), max_bytes=10 * MB, budget=budget)
    assert "took too long" in exc.value.message.msgid
    assert 0.25 < time.monotonic() - started < 1.5
    with pytest.raises(UploadRejected) as exc:  # the budget spent, the next file is not even started
        inspect_upload("IMG_2.jpg", jpeg_with_gps(), max_bytes=10 * MB, budget=budget)
    assert "took too long" in exc.value.message.msgid


def test_a_pdf_whose_images_claim_too_many_pixels_is_refused_before_decoding():
    import time
    import zlib

    import pikepdf

    for inline in (False, True):
        pdf = pikepdf.new()
        pdf.add_blank_page(page_size=(100, 100))
        pixels = zlib.compress(b"\0" * 1_000_000)  # a few KB that claim 1.6 gigapixels
        if inline:
            pdf.pages[0].obj.Contents = pdf.make_stream(
                b"q 50 0 0 50 10 10 cm BI /W 40000 /H 40000 /CS /G /BPC 8 /F /Fl ID " + pixels + b" EI Q")
        else:
            image = pdf.make_stream(pixels, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=40000,
                                    Height=40000, ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8,
                                    Filter=pikepdf.Name.FlateDecode)
            pdf.pages[0].obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
            pdf.pages[0].obj.Contents = pdf.make_stream(b"q 50 0 0 50 10 10 cm /Im0 Do Q")
        out = io.BytesIO()
        pdf.save(out)
        started = time.monotonic()
        with pytest.raises(UploadRejected) as exc:
            inspect_upload("scan.pdf", out.getvalue(), max_bytes=10 * MB)
        assert "megapixels" in exc.value.message.msgid and time.monotonic() - started < 2.0, inline
