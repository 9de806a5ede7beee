"""The names of the empty signature fields the renderer creates and the sealing step fills, by case kind.

A field's name says whose signature it holds, so a reader of the PDF (or of `gongu verify`) sees the role
without the case file: a survey report is signed by the firm's handlers (`handler-1` …) under the firm's
seal (`firm-seal`); a forensic document by the institution's appraisers (`appraiser-1` …) under its
司法鉴定专用章 (`institution-seal`). The HTML ids stay `sig-handler-N` / `sig-firm-seal` for both kinds
(`sig-party-N` for a party, field `party-N`): they place the boxes, the names here are what the PDF carries.
"""

from __future__ import annotations

HANDLER_FIELD = "handler-{}"
FIRM_SEAL_FIELD = "firm-seal"
APPRAISER_FIELD = "appraiser-{}"
INSTITUTION_SEAL_FIELD = "institution-seal"
# A party (当事人) who signs a forensic record that is not the appraisers' word: each side of a random draw
# on its record (Sichuan 二(三)), each participant of a mediation on the committee's 调解记录 (五(一)).
# The template marks such boxes `sig-party-N`.
PARTY_FIELD = "party-{}"


def person_field(forensic: bool) -> str:
    """The template of the n-th signer's field ("…-{}")."""
    return APPRAISER_FIELD if forensic else HANDLER_FIELD


def seal_field(forensic: bool) -> str:
    return INSTITUTION_SEAL_FIELD if forensic else FIRM_SEAL_FIELD
