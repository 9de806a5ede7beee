"""The firm's round red seal (公章) as a PNG, drawn from the firm name when the firm has no image.

A Chinese company seal is a red ring with a five-pointed star in the middle, the firm name running
clockwise along the upper arc and the purpose ('公估专用章') in a straight line under the star. Pillow
draws it; the text uses the same Noto CJK font as the report, so no extra font is needed.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SEAL_RED = (214, 0, 0)
CJK_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_BOLD_FONT_FILE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
# Index of "Noto Sans CJK SC" (simplified Chinese glyph forms) inside the fonts-noto-cjk collections.
NOTO_SC_INDEX = 2


def _font(size: int) -> ImageFont.FreeTypeFont:
    path = CJK_BOLD_FONT_FILE if CJK_BOLD_FONT_FILE.is_file() else CJK_FONT_FILE
    return ImageFont.truetype(str(path), size=size, index=NOTO_SC_INDEX)


def _star(cx: float, cy: float, r_outer: float) -> list[tuple[float, float]]:
    r_inner = r_outer * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = r_outer if i % 2 == 0 else r_inner
        angle = math.radians(-90 + i * 36)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def draw_seal(firm_name: str, purpose: str = "公估专用章", *, size: int = 600) -> Image.Image:
    """An RGBA image, transparent outside the ink (PDF/A-3 allows soft masks, unlike PDF/A-1)."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c = size / 2
    ring = size * 0.035
    draw.ellipse((ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=SEAL_RED, width=int(ring))
    draw.polygon(_star(c, c, size * 0.16), fill=SEAL_RED)

    # The name spreads over ~240° of the upper arc, each character upright towards the centre.
    chars = list(firm_name) or ["　"]
    glyph = max(int(size * 0.11), int(size * 0.95 / max(len(chars), 1) * 1.15))
    glyph = min(glyph, int(size * 0.13))
    font = _font(glyph)
    span = min(250.0, 22.0 * len(chars) + 20) if len(chars) > 1 else 0.0
    radius = c - ring - glyph * 0.72
    for i, ch in enumerate(chars):
        angle = -90 - span / 2 + (span * i / (len(chars) - 1) if len(chars) > 1 else 0)
        tile = Image.new("RGBA", (glyph * 2, glyph * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((glyph, glyph), ch, font=font, fill=SEAL_RED, anchor="mm")
        tile = tile.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
        x = c + radius * math.cos(math.radians(angle)) - glyph
        y = c + radius * math.sin(math.radians(angle)) - glyph
        img.alpha_composite(tile, (int(round(x)), int(round(y))))

    small = _font(int(size * 0.085))
    draw.text((c, c + size * 0.27), purpose, font=small, fill=SEAL_RED, anchor="mm")
    return img


def seal_png(firm_name: str, purpose: str = "公估专用章", *, size: int = 600) -> bytes:
    buf = io.BytesIO()
    draw_seal(firm_name, purpose, size=size).save(buf, format="PNG")
    return buf.getvalue()


def load_seal_image(path: Path | None, firm_name: str, purpose: str = "公估专用章") -> Image.Image:
    """The firm's configured seal image if there is one, else one drawn from the firm name (with
    `purpose` under the star: 公估专用章, or a forensic institution's 司法鉴定专用章)."""
    if path is not None:
        with Image.open(path) as im:
            return im.convert("RGBA")
    return draw_seal(firm_name, purpose)
