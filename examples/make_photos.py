"""Regenerate the site photos of the bundled examples (examples/<name>/photos/Pnn.jpg).

The examples cannot ship real site photos, so each is a drawn, photo-like illustration of its
survey-record item (5.3.1 d): a scene (slope, tunnel or bored-pile platform), debris, a measuring
staff for scale, a caption strip with the photo id, the time taken and the record item, and a
little grain. Deterministic: every random choice is seeded from the case id and photo id, so a
rerun gives the same pictures (given the same Pillow and font).

    .venv/bin/python examples/make_photos.py            # all examples
    .venv/bin/python examples/make_photos.py tunnel-inrush
"""

from __future__ import annotations

import json
import math
import random
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SIZE = (1024, 768)
STRIP = 92  # caption strip height
QUALITY = 70
MAX_BYTES = 80_000
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)

RGB = tuple[int, int, int]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default()


def _jitter(rng: random.Random, colour: RGB, spread: int = 14) -> RGB:
    """Mostly a change of brightness, a touch of hue: earth and stone stay earth-coloured."""
    light = rng.randint(-spread, spread)
    r, g, b = (max(0, min(255, c + light + rng.randint(-3, 3))) for c in colour)
    return (r, g, b)


def _gradient(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], top: RGB, bottom: RGB) -> None:
    x0, y0, x1, y1 = box
    for y in range(y0, y1):
        t = (y - y0) / max(1, y1 - y0 - 1)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(x0, y), (x1, y)], fill=colour)


def _rubble(draw: ImageDraw.ImageDraw, rng: random.Random, area: tuple[int, int, int, int], base: RGB, n: int) -> None:
    x0, y0, x1, y1 = area
    for _ in range(n):
        cx, cy = rng.randint(x0, x1), rng.randint(y0, y1)
        r = rng.randint(4, 22)
        # Points in angle order around the centre give a solid stone, not a sliver.
        angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(6))
        pts = [(cx + r * rng.uniform(0.6, 1.0) * math.cos(a), cy + r * rng.uniform(0.5, 0.9) * math.sin(a))
               for a in angles]
        draw.polygon(pts, fill=_jitter(rng, base, 28), outline=_jitter(rng, (60, 50, 40), 10))


def _staff(draw: ImageDraw.ImageDraw, x: int, y_bottom: int, height: int, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    """A red-and-white levelling staff, 10 cm bands, for scale."""
    band = height // 20
    width = 16
    for i in range(20):
        colour = (200, 30, 30) if i % 2 == 0 else (240, 240, 235)
        top = y_bottom - (i + 1) * band
        draw.rectangle([x, top, x + width, top + band], fill=colour)
    draw.rectangle([x, y_bottom - 20 * band, x + width, y_bottom], outline=(40, 40, 40))
    draw.text((x + width + 4, y_bottom - 20 * band), "2m", fill=(250, 250, 250), font=font)


def _scene_slope(img: Image.Image, rng: random.Random, small: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    draw = ImageDraw.Draw(img)
    w, h = img.width, img.height - STRIP
    _gradient(draw, (0, 0, w, int(h * 0.45)), (150, 165, 180), (205, 210, 212))  # overcast after rain
    ridge = [(0, int(h * 0.40))]
    for x in range(0, w + 64, 64):
        ridge.append((x, int(h * 0.30) + rng.randint(-25, 25)))
    ridge += [(w, h), (0, h)]
    draw.polygon(ridge, fill=(78, 104, 62))  # vegetated hill
    # benched cut slope with a collapse scar
    for level in range(4):
        y = int(h * (0.42 + level * 0.12))
        draw.polygon([(int(w * 0.12), y), (int(w * 0.92), y - 8), (int(w * 0.95), y + 60), (int(w * 0.10), y + 66)],
                     fill=_jitter(rng, (150, 150, 140)))
    sx = rng.randint(int(w * 0.28), int(w * 0.45))
    draw.polygon([(sx, int(h * 0.38)), (sx + 320, int(h * 0.40)), (sx + 380, int(h * 0.86)), (sx - 60, int(h * 0.88))],
                 fill=(132, 96, 62))
    _rubble(draw, rng, (sx - 80, int(h * 0.70), sx + 420, h - 10), (120, 100, 80), 260)
    draw.rectangle([0, int(h * 0.90), w, h], fill=(110, 98, 84))  # roadbed
    _staff(draw, sx + rng.randint(40, 260), int(h * 0.93), 220, small)


def _scene_tunnel(img: Image.Image, rng: random.Random, small: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    draw = ImageDraw.Draw(img)
    w, h = img.width, img.height - STRIP
    draw.rectangle([0, 0, w, h], fill=(22, 22, 24))
    cx, top = w // 2 + rng.randint(-40, 40), int(h * 0.08)
    for ring in range(9, 0, -1):  # shotcrete lining receding into the dark
        k = ring / 9
        rx, ry = int(w * 0.48 * k), int(h * 0.80 * k)
        shade = int(40 + 70 * k)
        draw.ellipse([cx - rx, top + int(h * 0.82 * (1 - k)), cx + rx, top + int(h * 0.82 * (1 - k)) + 2 * ry],
                     fill=(shade, shade - 4, shade - 10))
    for i in range(7):  # steel arches, some buckled
        x = int(w * 0.08) + i * 130
        bend = rng.randint(-30, 30) if i > 3 else 0
        draw.line([(x, h), (x + bend, int(h * 0.35)), (cx, top + 10)], fill=(95, 85, 70), width=6)
    for _ in range(5):  # work lights
        lx, ly = rng.randint(80, w - 80), rng.randint(int(h * 0.15), int(h * 0.35))
        draw.ellipse([lx - 9, ly - 9, lx + 9, ly + 9], fill=(255, 240, 190))
    _rubble(draw, rng, (int(w * 0.30), int(h * 0.45), int(w * 0.75), int(h * 0.80)), (110, 92, 70), 220)
    draw.rectangle([0, int(h * 0.80), w, h], fill=(96, 78, 56))  # muddy inrush water
    for _ in range(90):
        y = rng.randint(int(h * 0.80), h - 2)
        x = rng.randint(0, w)
        draw.line([(x, y), (x + rng.randint(20, 70), y)], fill=(140, 118, 86), width=2)
    _staff(draw, rng.randint(120, 300), int(h * 0.95), 240, small)


def _scene_pile(img: Image.Image, rng: random.Random, small: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    draw = ImageDraw.Draw(img)
    w, h = img.width, img.height - STRIP
    _gradient(draw, (0, 0, w, int(h * 0.40)), (120, 160, 205), (200, 215, 225))
    draw.rectangle([0, int(h * 0.32), w, int(h * 0.42)], fill=(92, 112, 104))  # river and far bank
    draw.rectangle([0, int(h * 0.42), w, h], fill=(118, 110, 96))  # working platform
    for x in range(0, w, 48):  # steel plates of the platform
        draw.line([(x, int(h * 0.42)), (x - 120, h)], fill=(100, 94, 84), width=2)
    cx, cy = w // 2 + rng.randint(-80, 80), int(h * 0.66)
    draw.ellipse([cx - 190, cy - 70, cx + 190, cy + 70], fill=(70, 62, 52))  # settlement around the hole
    draw.ellipse([cx - 120, cy - 44, cx + 120, cy + 44], fill=(60, 60, 66), outline=(30, 30, 30), width=8)  # casing
    draw.ellipse([cx - 104, cy - 34, cx + 104, cy + 34], fill=(104, 88, 64))  # backfill / slurry
    for i in range(-3, 4):  # a drill mast in the background
        draw.line([(cx + 300 + i, int(h * 0.05)), (cx + 280 + i, int(h * 0.60))], fill=(200, 160, 30), width=2)
    cage_y = int(h * 0.86)
    for k in range(10):  # a pulled-out reinforcement cage lying bent on the platform
        y = cage_y - 40 + k * 8
        draw.line([(int(w * 0.05), y + rng.randint(-4, 4)), (int(w * 0.40), y + rng.randint(-20, 20))],
                  fill=(88, 70, 60), width=3)
    _rubble(draw, rng, (cx - 220, cy + 40, cx + 260, h - 10), (128, 112, 88), 120)
    _staff(draw, cx + 150, int(h * 0.92), 230, small)


SCENES: dict[str, Callable[[Image.Image, random.Random, ImageFont.FreeTypeFont | ImageFont.ImageFont], None]] = {
    "slope-collapse": _scene_slope,
    "tunnel-inrush": _scene_tunnel,
    "pile-collapse": _scene_pile,
}


def _caption(img: Image.Image, lines: tuple[str, str]) -> None:
    draw = ImageDraw.Draw(img)
    y0 = img.height - STRIP
    draw.rectangle([0, y0, img.width, img.height], fill=(245, 245, 240))
    draw.line([(0, y0), (img.width, y0)], fill=(60, 60, 60), width=2)
    draw.text((18, y0 + 10), lines[0], fill=(20, 20, 20), font=_font(28))
    draw.text((18, y0 + 52), lines[1], fill=(70, 70, 70), font=_font(22))


def _grain(img: Image.Image, seed: int) -> Image.Image:
    """A little sensor noise and softness so the drawing reads as a photograph."""
    # Seeded bytes rather than Image.effect_noise, whose C rand() is not ours to seed.
    grain = random.Random(seed).randbytes(img.width * img.height)
    noise = Image.frombytes("L", img.size, grain).filter(ImageFilter.GaussianBlur(0.6)).convert("RGB")
    return Image.blend(img, noise, 0.07).filter(ImageFilter.GaussianBlur(0.7))


def make_photo(case: dict, photo: dict, scene: str, out: Path) -> None:
    seed = zlib.crc32(f"{case['case_id']}/{photo['id']}".encode())
    rng = random.Random(seed)
    img = Image.new("RGB", SIZE, (0, 0, 0))
    SCENES.get(scene, _scene_slope)(img, rng, _font(16))
    img = _grain(img, seed)
    records = {r["id"]: r for r in case["survey"]["record_items"]}
    record = records.get(photo.get("record_item") or "")
    taken = (photo.get("taken_at") or "").replace("T", " ")[:16]
    head = f"{photo['id']}  {taken}  {photo['caption']}"
    tail = f"查勘记录 {record['id']} {record['name']}｜{record['location']}" if record else case["case_name"]
    _caption(img, (head, tail[:46]))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    quality = QUALITY
    while True:  # stay under the size budget the repository keeps for example photos
        img.save(tmp, "JPEG", quality=quality, optimize=True)
        if tmp.stat().st_size <= MAX_BYTES or quality <= 35:
            break
        quality -= 5
    tmp.replace(out)


def main(names: list[str]) -> None:
    folders = [HERE / n for n in names] if names else sorted(p for p in HERE.iterdir() if (p / "case.json").exists())
    for folder in folders:
        case = json.loads((folder / "case.json").read_text(encoding="utf-8"))
        for photo in case["survey"]["photos"]:
            out = folder / photo["file"]
            make_photo(case, photo, folder.name, out)
            print(f"{out.relative_to(HERE)}  {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1:])
