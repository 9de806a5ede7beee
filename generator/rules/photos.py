"""Clause 5.3.1 d) with 9.2: every survey photo must be in the report, so each file is decoded and checked.

A photo that is missing, unreadable, not JPEG/PNG or beyond the pixel limit would be a placeholder or a
gap in the issued report; the review blocks it while the firm can still supply a usable file.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.case_paths import CasePathError, resolve_case_file
from generator.photos import PhotoError, inspect_photo
from generator.rules.rule import Miss, RuleContext, rule
from generator.text_safety import neutralise


@rule("record.photo_file", "5.3.1", "blocking", "每张现场照片的文件存在、可完整解码（JPEG/PNG，不超过像素上限）")
def record_photo_file(ctx: RuleContext) -> Iterator[Miss]:
    if ctx.case_dir is None:  # a case held only in memory has no folder to look in
        return
    for i, photo in enumerate(ctx.case.survey.photos):
        path = f"$.survey.photos[{i}].file"
        shown = neutralise(photo.file)
        try:
            inspect_photo(resolve_case_file(ctx.case_dir, photo.file, f"照片 {photo.id} 的文件"))
        except CasePathError as exc:
            yield Miss(path, f"现场照片 {photo.id} / 照片文件：{exc}", shown)
        except PhotoError as exc:
            yield Miss(path, f"现场照片 {photo.id} / 照片文件：{exc}；报告中无法印出此照片（5.3.1 d、9.2）", shown)
