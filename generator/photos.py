"""Survey photos (5.3.1 d): checked before a report may go out, re-encoded for print when it is rendered.

Every photo a case names is decoded here, once for the quality review (`inspect_photo`: format, pixel
count, readable to the last byte) and once for the report (`print_copy`: EXIF orientation applied,
longest side at most `PRINT_LONG_SIDE`, re-encoded so nothing but the picture reaches the PDF or DOCX —
no trailing junk, no metadata). The archive keeps the original files byte for byte; only the report
carries the print copies. Pillow does the decoding, with its decompression-bomb guard kept on.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# Formats a report embeds: what a camera or phone writes (JPEG) and lossless screenshots/drawings (PNG).
ALLOWED_FORMATS = ("JPEG", "PNG")
# 100 megapixels is beyond any survey camera (a 61 MP full-frame body is the top of the range today) and
# bounds the memory one decode takes (~300 MB RGB). Beyond it a file is refused, not silently dropped.
MAX_PIXELS = 100_000_000
MAX_FILE_BYTES = 64 * 1024 * 1024  # no camera writes a 64 MB JPEG; beyond it a file is refused unread
# Print resolution: a photo cell is at most ~110 mm wide (DOCX) — 2000 px is ~460 dpi there and still
# ≥ 200 dpi on a full A4 text width (174 mm ≈ 1370 px), so nothing visible is lost.
PRINT_LONG_SIDE = 2000
JPEG_QUALITY = 85
PRINT_DPI = 200


class PhotoError(Exception):
    """A photo the report cannot show: why, in Chinese for the firm (English in brackets for IT)."""


@dataclass(frozen=True)
class PhotoInfo:
    format: str
    width: int
    height: int


def open_photo(source: Path | bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image opened lazily (header only), with the size and format checks done before decoding: a
    file of the case folder, or the bytes of an upload."""
    stream: Path | io.BytesIO = source if isinstance(source, Path) else io.BytesIO(source)
    if isinstance(source, Path) and not source.is_file():
        raise PhotoError("照片文件缺失 (file not found)")
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > MAX_FILE_BYTES:
        raise PhotoError(f"照片文件过大：{size} 字节，上限 {MAX_FILE_BYTES} 字节 (file too large)")
    try:
        with warnings.catch_warnings():
            # Pillow warns above its MAX_IMAGE_PIXELS (~89 MP) and refuses above twice that; the warning
            # band is judged by our own limit below, the refusal stays (its guard is never switched off).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except Image.DecompressionBombError as exc:
        raise PhotoError(f"照片像素过多，超过上限 {MAX_PIXELS // 1_000_000} 百万像素 (decompression bomb: {exc})") from None
    except UnidentifiedImageError:
        raise PhotoError("无法识别的图像文件，须为 JPEG 或 PNG (not a readable image)") from None
    except OSError as exc:
        raise PhotoError(f"无法读取照片文件 ({exc})") from None
    if image.format not in ALLOWED_FORMATS:
        fmt = image.format
        image.close()
        raise PhotoError(f"照片格式为 {fmt}，只接受 JPEG 或 PNG (unsupported image format)")
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        image.close()
        raise PhotoError(f"照片 {width}×{height} 像素（{width * height / 1e6:.1f} 百万像素），超过上限 "
                         f"{MAX_PIXELS // 1_000_000} 百万像素 (too many pixels)")
    return image


def decode_photo(image: Image.Image, at_least: tuple[int, int] = (PRINT_LONG_SIDE, PRINT_LONG_SIDE)) -> Image.Image:
    """Decode the whole stream (a truncated or corrupt file fails here). JPEGs decode at a reduced DCT
    scale no smaller than `at_least` (the print size): every byte is still read, at a fraction of the memory."""
    if image.format == "JPEG":
        image.draft("RGB", at_least)
    # WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES on import, which would pass a cut-off file with a
    # grey bottom; the check needs every byte, so the flag is off while this photo decodes.
    tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # size already checked
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(f"照片文件已损坏，无法完整解码 (decode failed: {exc})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
    return image


def inspect_photo(path: Path) -> PhotoInfo:
    """Check one photo fully (format, pixels, every byte decodable); raise PhotoError saying why not."""
    with open_photo(path) as image:
        fmt, (width, height) = image.format or "", image.size
        decode_photo(image)
    return PhotoInfo(fmt, width, height)


def print_copy(path: Path) -> tuple[bytes, str]:
    """The photo as the report embeds it: (bytes, MIME type). EXIF orientation applied, longest side at
    most PRINT_LONG_SIDE, re-encoded (JPEG stays JPEG, PNG stays PNG) with no metadata or trailing data.
    Deterministic: the same file gives the same bytes, so the same case still gives the same PDF."""
    with open_photo(path) as image:
        source_format = image.format or ""
        upright = ImageOps.exif_transpose(decode_photo(image))
        upright.thumbnail((PRINT_LONG_SIDE, PRINT_LONG_SIDE), Image.Resampling.LANCZOS)
        return encode_copy(upright, source_format)


def encode_copy(upright: Image.Image, source_format: str) -> tuple[bytes, str]:
    """A decoded, upright photo re-encoded as the report embeds it: (bytes, MIME type), JPEG stays JPEG and
    PNG stays PNG, at the print resolution's dpi, with no metadata."""
    out = io.BytesIO()
    if source_format == "PNG":
        if upright.mode not in ("RGB", "RGBA", "L", "LA"):
            upright = upright.convert("RGBA" if "transparency" in upright.info or upright.mode == "PA" else "RGB")
        upright.save(out, format="PNG", optimize=True, dpi=(PRINT_DPI, PRINT_DPI))
        return out.getvalue(), "image/png"
    if upright.mode != "RGB":
        upright = upright.convert("RGB")  # CMYK / greyscale JPEGs print alike in every viewer
    upright.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, dpi=(PRINT_DPI, PRINT_DPI))
    return out.getvalue(), "image/jpeg"
