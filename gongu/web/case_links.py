"""Links a case page shows for a kind: the generic case page (pages_cases.py) stays
generic, and an area with its own pages for a kind (the forensic pages: documents, draw, ledger) adds
a link here instead of editing the case page.

    from gongu.web.case_links import CaseLink, register
    register(CaseLink("鉴定文书", "/forensic/cases/{case_id}/documents", kinds=frozenset({"forensic_appraisal"})))
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class CaseLink:
    title: str
    path: str  # with "{case_id}"
    kinds: frozenset[str] = frozenset({"car_survey", "forensic_appraisal"})
    roles: frozenset[str] | None = None  # None: whoever may see the case page

    def url(self, case_id: str) -> str:
        return self.path.format(case_id=quote(case_id, safe=""))


CASE_LINKS: list[CaseLink] = []


def register(link: CaseLink) -> CaseLink:
    if any(existing.title == link.title and existing.kinds & link.kinds for existing in CASE_LINKS):
        raise ValueError(f"case link {link.title} registered twice")
    CASE_LINKS.append(link)
    return link


def links_for(kind: str, roles: frozenset[str]) -> list[CaseLink]:
    return [link for link in CASE_LINKS if kind in link.kinds and (link.roles is None or link.roles & roles)]
