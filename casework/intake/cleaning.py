"""The staff copy of an upload, made from its content alone, in a child process with limits.

``python -m casework.intake.cleaning MIME PIXELS`` reads a file on standard input and writes
the copy staff download on standard output, preceded by 8 bytes: the pixels it decoded (big
endian). It runs in a process of its own (casework.intake.files.clean_in_child) so that a
hostile file costs at most the wall time the parent allows (the parent kills it then), at most
``MEMORY_BYTES`` of memory, and never a key: the child gets no environment beyond PATH.

Images (JPEG, PNG, WebP) are decoded and a new image is built from the pixels alone (EXIF with
its GPS, XMP, the JPEG COM comment, PNG text chunks, the ICC profile after conversion to sRGB:
none of them is copied), then encoded again. PDFs are rebuilt with pikepdf (qpdf): the
annotations are first flattened into the page (their appearance stays, their authors, their
actions and file attachments go), then a new document takes from each page only its boxes,
rotation, resources and content; the catalogue (XMP, OpenAction, Names with JavaScript and
embedded files, AcroForm, outlines), the document information, page actions (/AA), PieceInfo
and thumbnails are not carried over; every ``/Metadata``, ``/PieceInfo``, ``/AA``, ``/JS`` and
``/EF`` left in a resource is removed; every image XObject is decoded and re-encoded from its
pixels (JPEG stays JPEG, the others become Flate), so a JPEG embedded with EXIF keeps none.
Rebuilt rather than rasterised: the text stays selectable and searchable for the handler and the
copy stays small, and a page keeps nothing that does not draw it.

Exit status: 0 the copy; 2 unreadable; 3 more pixels than allowed (``PIXELS``, checked from the
headers before anything is decoded).
"""
from __future__ import annotations

import io
import sys
import zlib

MEMORY_BYTES = 1536 * 1024 * 1024
CPU_SECONDS = 60  # a backstop; the parent's wall-time limit is the real one
EXIT_UNREADABLE, EXIT_PIXELS = 2, 3


class TooManyPixels(Exception):
    pass


def _pixels_only(img):
    """A new image holding only the pixels of ``img`` (and a palette's transparency)."""
    from PIL import Image

    if img.mode in ("P", "PA"):
        img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    elif img.mode in ("1", "I;16", "I;16B", "I;16L", "I", "F"):
        img = img.convert("L")
    elif img.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):
        img = img.convert("RGBA" if "A" in img.mode else "RGB")
    return Image.frombytes(img.mode, img.size, img.tobytes())


def _to_srgb(img):
    """Colours as the camera meant them, without carrying its ICC profile (which can name it)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA"):
        return img
    try:
        from PIL import ImageCms

        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"), outputMode=img.mode)
    except Exception:  # an unusable profile: the pixels as they are
        return img


def image_pixels(data: bytes) -> int:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:  # reads the header only
        return img.width * img.height


def clean_image(data: bytes, mime: str, max_pixels: int) -> tuple[bytes, int]:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise TooManyPixels()
    pixels = img.width * img.height
    if pixels > max_pixels:
        raise TooManyPixels()
    img.load()
    img = ImageOps.exif_transpose(img)  # keep what the camera meant, then drop EXIF
    img = _pixels_only(_to_srgb(img))
    out = io.BytesIO()
    if mime == "image/png":
        img.save(out, format="PNG")
    else:
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        if mime == "image/webp":
            img.save(out, format="WEBP", quality=85, method=2)
        else:
            img.save(out, format="JPEG", quality=90)
    return out.getvalue(), pixels


# --- PDF ------------------------------------------------------------------------------------

PAGE_KEYS = ("/MediaBox", "/CropBox", "/Rotate", "/Resources")
SCRUB = ("/Metadata", "/PieceInfo", "/AA", "/A", "/JS", "/JavaScript", "/OpenAction", "/EF", "/EmbeddedFiles",
         "/Annots", "/Thumb", "/LastModified", "/StructParent", "/StructParents", "/ID")


def _inherited(page, key):
    node, depth = page, 0
    while node is not None and depth < 64:
        if key in node:
            return node[key]
        node = node.get("/Parent")
        depth += 1
    return None


def _filters(obj) -> list[str]:
    import pikepdf

    f = obj.get("/Filter")
    if f is None:
        return []
    if isinstance(f, pikepdf.Array):
        return [str(x) for x in f]
    return [str(f)]


def _reencode_pdf_image(obj) -> None:
    """Replace an image XObject's data by its pixels, encoded anew; keep only drawing keys."""
    import pikepdf
    from PIL import Image

    filters = _filters(obj)
    keep = {"/Type", "/Subtype", "/Width", "/Height", "/ColorSpace", "/BitsPerComponent", "/Decode",
            "/ImageMask", "/Mask", "/SMask", "/Interpolate", "/Intent", "/SMaskInData", "/Length"}
    if filters in (["/DCTDecode"], ["/JPXDecode"]):
        img = Image.open(io.BytesIO(obj.read_raw_bytes()))
        img.load()
        img = _pixels_only(img)
        out = io.BytesIO()
        if img.mode not in ("RGB", "L", "CMYK"):
            img = img.convert("RGB")
        img.save(out, format="JPEG", quality=90)
        for key in list(obj.keys()):
            if key not in keep:
                del obj[key]
        obj.write(out.getvalue(), filter=pikepdf.Name.DCTDecode)
        return
    if obj.get("/ImageMask", False):
        data = obj.read_bytes()  # a 1-bit stencil: pixels only, whatever its filter was
        for key in list(obj.keys()):
            if key not in keep:
                del obj[key]
        obj.write(zlib.compress(data), filter=pikepdf.Name.FlateDecode)
        return
    try:
        img = pikepdf.PdfImage(obj).as_pil_image()
    except Exception:
        # a filter decoded only by qpdf's stream reader (Flate, LZW, RunLength, ASCII*) is pixels
        data = obj.read_bytes()
        for key in list(obj.keys()):
            if key not in keep:
                del obj[key]
        obj.write(zlib.compress(data), filter=pikepdf.Name.FlateDecode)
        return
    img = _pixels_only(img)
    if img.mode not in ("L", "RGB", "CMYK"):
        img = img.convert("RGB")
    space = {"L": pikepdf.Name.DeviceGray, "RGB": pikepdf.Name.DeviceRGB, "CMYK": pikepdf.Name.DeviceCMYK}[img.mode]
    for key in list(obj.keys()):
        if key not in keep or key in ("/Decode", "/ColorSpace", "/BitsPerComponent"):
            del obj[key]
    obj.write(zlib.compress(img.tobytes()), filter=pikepdf.Name.FlateDecode)
    obj.ColorSpace = space
    obj.BitsPerComponent = 8


INLINE_SPACES = {"L": b"/G", "RGB": b"/RGB", "CMYK": b"/CMYK"}


def _inline_image(iimage) -> bytes:
    """An inline image (BI ... ID ... EI) as its pixels alone: hex of Flate, so no stray ``EI``."""
    from PIL import Image

    img = _pixels_only(iimage.as_pil_image())
    if img.mode not in INLINE_SPACES:
        img = img.convert("RGB")
    data = zlib.compress(img.tobytes()).hex().encode() + b">"
    return (b"BI /W %d /H %d /CS %s /BPC 8 /F [/AHx /Fl] ID " % (img.width, img.height, INLINE_SPACES[img.mode])
            + data + b" EI")


def _rewrite_inline_images(dst, max_pixels: int) -> int:
    """Every content stream (pages, forms, patterns, Type3 glyphs) with an inline image is written
    again with each inline image re-encoded from its pixels; returns their pixels."""
    import pikepdf

    pixels = 0
    streams = [page.obj.get("/Contents") for page in dst.pages]
    for o in dst.objects:
        if isinstance(o, pikepdf.Stream) and (o.get("/Subtype") == "/Form" or o.get("/PatternType") == 1):
            streams.append(o)
        elif isinstance(o, pikepdf.Dictionary) and isinstance(o.get("/CharProcs"), pikepdf.Dictionary):
            streams.extend(o.CharProcs[k] for k in o.CharProcs.keys())  # a Type3 font's glyphs
    flat = []
    for s in streams:
        if isinstance(s, pikepdf.Array):
            flat.extend(x for x in s if isinstance(x, pikepdf.Stream))
        elif isinstance(s, pikepdf.Stream):
            flat.append(s)
    seen = set()
    for stream in flat:
        if stream.objgen in seen or b"BI" not in stream.read_bytes():
            continue
        seen.add(stream.objgen)
        try:
            instructions = pikepdf.parse_content_stream(stream)
        except (pikepdf.PdfError, TypeError, ValueError):
            raise ValueError("a content stream that may hold an inline image does not parse")
        if not any(isinstance(i, pikepdf.ContentStreamInlineImage) for i in instructions):
            continue
        out, run = [], []
        for inst in instructions:
            if isinstance(inst, pikepdf.ContentStreamInlineImage):
                out.append(pikepdf.unparse_content_stream(run))
                run = []
                pixels += int(inst.iimage.width) * int(inst.iimage.height)
                if pixels > max_pixels:  # from its dictionary, before it is decoded
                    raise TooManyPixels()
                out.append(_inline_image(inst.iimage))
            else:
                run.append(inst)
        out.append(pikepdf.unparse_content_stream(run))
        stream.write(zlib.compress(b"\n".join(out)), filter=pikepdf.Name.FlateDecode)
    return pixels


def _image_pixels(pdf) -> int:
    import pikepdf

    total = 0
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
            try:
                total += int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
            except (TypeError, ValueError):
                raise ValueError("bad image size")
    return total


def clean_pdf(data: bytes, max_pixels: int) -> tuple[bytes, int]:
    import pikepdf

    src = pikepdf.open(io.BytesIO(data))
    try:
        src.flatten_annotations(mode="all")  # their appearance stays in the page; they go
    except Exception:
        pass
    dst = pikepdf.new()
    for page in src.pages:
        new = pikepdf.Dictionary(Type=pikepdf.Name.Page)
        for key in PAGE_KEYS:
            value = _inherited(page.obj, key)
            if value is not None:
                new[key] = value
        if "/Contents" in page.obj:
            new.Contents = page.obj.Contents
        if "/MediaBox" not in new:
            new.MediaBox = pikepdf.Array([0, 0, 612, 792])
        dst.pages.append(pikepdf.Page(src.make_indirect(new)))
    pixels = _image_pixels(dst)
    if pixels > max_pixels:
        raise TooManyPixels()
    pixels += _rewrite_inline_images(dst, max_pixels - pixels)  # each counted before it is decoded
    for obj in list(dst.objects):
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            for key in SCRUB:
                if key in obj:
                    del obj[key]
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                _reencode_pdf_image(obj)
    for key in list(dst.Root.keys()):
        if key not in ("/Type", "/Pages"):
            del dst.Root[key]
    if "/Info" in dst.trailer:
        del dst.trailer["/Info"]
    out = io.BytesIO()
    dst.remove_unreferenced_resources()
    dst.save(out, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
             deterministic_id=True, linearize=False)
    return out.getvalue(), pixels


def clean(data: bytes, mime: str, max_pixels: int) -> tuple[bytes, int]:
    if mime == "application/pdf":
        return clean_pdf(data, max_pixels)
    return clean_image(data, mime, max_pixels)


def _limit() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    except (ImportError, ValueError, OSError):
        pass


def main(argv: list[str]) -> int:
    _limit()
    mime, max_pixels = argv[0], int(argv[1])
    data = sys.stdin.buffer.read()
    try:
        copy, pixels = clean(data, mime, max_pixels)
    except TooManyPixels:
        return EXIT_PIXELS
    except BaseException:  # any decoder error (or the memory limit) means a damaged or hostile file
        return EXIT_UNREADABLE
    sys.stdout.buffer.write(pixels.to_bytes(8, "big") + copy)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
