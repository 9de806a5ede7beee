"""Regenerate the process recordings of the forensic examples (通则 Art 27, Sichuan 三(二)).

The examples cannot ship real recordings of an examination, so each is a small stand-in with the
right format: a short mono WAV (a quiet tone with the rhythm of speech, made with the `wave`
module), a JPEG "photo" of the examination room with a caption strip, and for the extension example
a JPEG "ID copy" of the insurer's attendee (blank specimen card, no real identity number).
Deterministic: rerunning gives the same bytes for the same Pillow and font.

    .venv/bin/python examples/make_forensic_media.py
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default()


def write_wav(path: Path, seconds: float = 2.0, rate: int = 8000) -> None:
    """8 kHz 16-bit mono: a 220 Hz tone gated on and off like speech, about 32 kB for 2 s."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        t = i / rate
        gate = 1.0 if (t * 3) % 1 < 0.6 else 0.0
        sample = int(4000 * gate * math.sin(2 * math.pi * 220 * t))
        frames += struct.pack("<h", sample)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


def write_room_photo(path: Path, caption: str) -> None:
    """An examination room: wall, floor, couch, a goniometer on a table, and a caption strip."""
    img = Image.new("RGB", (800, 600), (222, 226, 220))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 380, 800, 508], fill=(170, 160, 145))  # floor
    draw.rectangle([120, 300, 520, 360], fill=(90, 120, 150))  # examination couch
    draw.rectangle([130, 360, 150, 440], fill=(70, 70, 70))
    draw.rectangle([490, 360, 510, 440], fill=(70, 70, 70))
    draw.rectangle([580, 320, 740, 340], fill=(140, 100, 60))  # table
    draw.line([(600, 315), (660, 270)], fill=(40, 40, 40), width=4)  # goniometer arms
    draw.line([(600, 315), (690, 310)], fill=(40, 40, 40), width=4)
    draw.rectangle([0, 508, 800, 600], fill=(30, 30, 30))
    draw.text((16, 530), caption, fill=(240, 240, 240), font=_font(26))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=70)


def write_id_copy(path: Path, name: str, organisation: str) -> None:
    """A specimen 工作证 copy: card outline, name and organisation, 'specimen' watermark, no real ID number."""
    img = Image.new("RGB", (640, 400), (250, 250, 248))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle([20, 20, 620, 380], radius=18, outline=(60, 60, 60), width=3)
    draw.rectangle([50, 70, 190, 250], outline=(120, 120, 120), width=2)  # photo box
    font = _font(28)
    draw.text((220, 80), "工作证（复印件）", fill=(20, 20, 20), font=font)
    draw.text((220, 140), f"姓名：{name}", fill=(20, 20, 20), font=font)
    draw.text((220, 200), organisation, fill=(20, 20, 20), font=_font(20))
    draw.text((220, 300), "仅供司法鉴定见证留存  样例", fill=(180, 40, 40), font=_font(22))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=70)


def main() -> None:
    single = HERE / "forensic-single-no-disability" / "recordings"
    write_wav(single / "R1-exam-audio.wav")
    write_room_photo(single / "R2-exam-room.jpg", "2026-03-12 09:58 绵阳科信司法鉴定中心 法医临床检验室")
    ext = HERE / "forensic-extension-correction" / "recordings"
    write_room_photo(ext / "R1-exam-room.jpg", "2026-09-16 10:05 四川锦诚司法鉴定中心 法医临床检验室")
    write_wav(ext / "R2-exam-audio.wav")
    write_id_copy(HERE / "forensic-extension-correction" / "ids" / "A1-chen-xiaodong-work-id.jpg",
                  "陈晓东", "中国太平洋财产保险股份有限公司四川分公司")


if __name__ == "__main__":
    main()
