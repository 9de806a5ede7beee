"""Regenerate the scanned records bound after the forensic examples' documents (examples/<name>/scans/*.pdf).

The examples cannot ship real medical records, so each scan is a drawn page that reads like a photocopy
of one: off-white paper, a printed form with the hospital's (fictional) letterhead, the record's text, a
red 病案复印专用章, a slight skew and grain, saved as an image-only PDF as a scanner would. Deterministic:
the grain is seeded from the file name and the PDF dates are fixed, so a rerun gives the same files.

    .venv/bin/python examples/make_scans.py
"""

from __future__ import annotations

import random
import zlib
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
DPI = 100
PAGE = (827, 1169)  # A4 at 100 dpi
FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
SANS = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FIXED = datetime(2026, 5, 11, 9, 30)


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def page(seed: str, letterhead: str, title: str, fields: list[tuple[str, str]], body: list[str], footer: str,
         stamp_text: str = "病案复印专用章") -> Image.Image:
    rnd = random.Random(zlib.crc32(seed.encode()))
    img = Image.new("RGB", PAGE, (246, 244, 236))
    d = ImageDraw.Draw(img)
    d.text((PAGE[0] // 2, 70), letterhead, font=_font(SANS, 30), fill=(30, 30, 30), anchor="mm")
    d.text((PAGE[0] // 2, 120), title, font=_font(SANS, 34), fill=(20, 20, 20), anchor="mm")
    d.line((70, 150, PAGE[0] - 70, 150), fill=(40, 40, 40), width=2)
    y = 172
    small = _font(FONT, 19)
    for i in range(0, len(fields), 3):
        x = 80
        for label, value in fields[i:i + 3]:
            d.text((x, y), f"{label}：{value}", font=small, fill=(25, 25, 25))
            x += 230
        y += 34
    d.line((70, y + 4, PAGE[0] - 70, y + 4), fill=(90, 90, 90), width=1)
    y += 22
    text_font = _font(FONT, 21)
    for para in body:
        for line in _wrap(para, 30):
            d.text((86, y), line, font=text_font, fill=(rnd.randint(15, 40),) * 3)
            y += 33
        y += 8
    d.text((PAGE[0] // 2, PAGE[1] - 60), footer, font=small, fill=(60, 60, 60), anchor="mm")
    # The issuer's stamp (e.g. 病案复印专用章): a red ring with its name, stamped a little askew.
    stamp = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    s = ImageDraw.Draw(stamp)
    s.ellipse((8, 8, 232, 232), outline=(200, 30, 40, 190), width=7)
    s.text((120, 120), "★", font=_font(SANS, 48), fill=(200, 30, 40, 190), anchor="mm")
    s.text((120, 176), stamp_text, font=_font(SANS, 22), fill=(200, 30, 40, 190), anchor="mm")
    s.text((120, 62), letterhead[:6], font=_font(SANS, 24), fill=(200, 30, 40, 190), anchor="mm")
    stamp = stamp.rotate(rnd.uniform(-18, 18), resample=Image.Resampling.BICUBIC)
    img.paste(stamp, (PAGE[0] - 330, PAGE[1] - 330), stamp)
    # A photocopy: slightly skewed, soft, grainy.
    img = img.rotate(rnd.uniform(-0.8, 0.8), resample=Image.Resampling.BICUBIC, fillcolor=(232, 230, 222))
    img = img.filter(ImageFilter.GaussianBlur(0.5))
    grain = Image.effect_noise(PAGE, 10).convert("RGB")
    return Image.blend(img, grain, 0.06)


def save_pdf(path: Path, pages: list[Image.Image]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pages[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=pages[1:], quality=55,
                  title=path.stem, creationDate=FIXED.timetuple(), modDate=FIXED.timetuple(), producer="Gongu examples/make_scans.py")


def grade10() -> None:
    folder = HERE / "forensic-joint-grade10" / "scans"
    hospital = "四川省骨科医院"
    fields = [("姓名", "何建平"), ("性别", "男"), ("年龄", "40岁"), ("科室", "创伤骨科"), ("床号", "23"),
              ("住院号", "2026001173")]
    p1 = page("discharge-1", hospital, "出 院 记 录", fields, [
        "入院日期：2026年1月17日　出院日期：2026年2月3日　住院天数：17天",
        "入院情况：患者因“车祸致左膝肿痛、活动受限2小时”入院。查体：左膝肿胀明显，胫骨近端压痛，可扪及骨擦感，左膝活动受限。"
        "X线片及CT示：左胫骨平台骨折（Schatzker Ⅱ型）。",
        "入院诊断：1.左胫骨平台骨折；2.左膝内侧副韧带损伤。",
        "诊疗经过：入院后予以患肢制动、消肿、止痛等对症治疗，于2026年1月20日在腰硬联合麻醉下行“左胫骨平台骨折切开复位内固定术”，"
        "术后予以抗感染、抗凝、功能锻炼等治疗，切口愈合良好。",
    ], "第 1 页 共 2 页")
    p2 = page("discharge-2", hospital, "出 院 记 录（续）", fields, [
        "出院情况：患者一般情况可，左膝切口甲级愈合，左下肢感觉、血运正常，左膝屈曲约60°。复查X线片示骨折对位对线良好，内固定物在位。",
        "出院诊断：1.左胫骨平台骨折（术后）；2.左膝内侧副韧带损伤。",
        "出院医嘱：1.休息3个月，患肢避免负重8周；2.循序渐进行左膝关节功能锻炼；3.术后1、2、3个月门诊复查X线片；"
        "4.骨折愈合后择期取出内固定物；5.不适随诊。",
        "医师签名：赵文杰　　　2026年2月3日",
    ], "第 2 页 共 2 页")
    save_pdf(folder / "discharge-record.pdf", [p1, p2])
    police = "成都市公安局交通管理局第五分局"
    p3 = page("accident-report", police, "道路交通事故认定书", [("编号", "成公交认字〔2026〕第05117号")], [
        "交通事故时间：2026年1月17日18时20分",
        "交通事故地点：成都市金牛区一环路北三段与西体路交叉口",
        "当事人、车辆基本情况：刘德胜，驾驶川A·7K2M9号小型轿车；何建平，驾驶电动自行车。",
        "交通事故发生经过：刘德胜驾驶川A·7K2M9号小型轿车行驶至事发路口右转弯时，未让直行的非机动车先行，"
        "与何建平驾驶的电动自行车相撞，造成何建平受伤、车辆受损的道路交通事故。",
        "当事人导致交通事故的过错及责任：刘德胜承担此事故的全部责任；何建平无责任。",
    ], "（复印件，与原件核对无误）", stamp_text="交通事故处理专用章")
    save_pdf(folder / "accident-report.pdf", [p3])


if __name__ == "__main__":
    grade10()
