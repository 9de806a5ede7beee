"""A verifiable random draw of the appraisal institution (Sichuan 二(三) 公平随机, 二(四)).

Pure functions, no I/O and no clock: every time is an input. The method follows RFC 3797 (publicly
verifiable nominations committee random selection): the list is fixed and published first, the random
value comes from a public source named before its result is known, and anyone can redo the selection
from the record — with SHA-256 instead of RFC 3797's MD5. docs/draw.md explains it to a lawyer.

Exact definitions (docs/draw.md repeats them in Chinese):

- Text is Unicode NFC, encoded UTF-8. The canonical order of institutions: by licence number, then name,
  comparing code points.
- Eligible-list hash = SHA-256 of the text
  "gongu-draw-list/1\\n" followed by one line per eligible institution, "<licence_no>\\t<name>\\n".
- Commitment to a secret = SHA-256(b"gongu-draw-commit/1" ‖ UTF-8 secret), hex.
- Public value: the published numbers as RFC 3797 writes them, decimal without leading zeros, each
  followed by "." and the whole by "/": 3 7 12 19 25 31 9 → "3.7.12.19.25.31.9./".
- Seed = SHA-256 of the concatenation of these netstrings (`<byte length in decimal>:<bytes>,`,
  D. J. Bernstein's format, so that no field can run into the next), in this order:
  "gongu-draw/1", the list hash (64 lowercase hex), the case id, the public source's name, its issue,
  the public value, the number of revealed secrets (decimal), then for each secret sorted by the
  party's name: the party's name, the secret.
- Random stream: block k (k = 0, 1, 2, …) = SHA-256 of the ASCII text "<seed hex>:<k>"; the stream is
  block 0 ‖ block 1 ‖ …, read as successive 32-bit big-endian numbers u (8 hex digits each).
- A number in 0 … m-1: take the next u; if u < 2^32 − (2^32 mod m) the result is u mod m, otherwise
  u is discarded and the next one taken (rejection: every result equally likely, no modulo bias).
- Order: start with the eligible list in canonical order; while more than one institution remains,
  draw j in 0 … (remaining − 1) and move the j-th remaining institution (counting from 0) to the end
  of the order; the last one left comes last. (Fisher and Yates' original striking-out method.)
- The first in the order is chosen; a decline or recusal (a recorded event with its reason) passes the
  choice to the next in the order — never a new draw.
- Record digest (`record_digest`) = SHA-256 of the record without this key, as compact JSON with sorted
  keys and unescaped characters. It covers what the draw does not compute from — case name, matters,
  the roster's source, who declared, every time — so that no field changes after a step unnoticed;
  `gongu draw log` writes it into the archive's tamper-evident log, which binds it for good.
- A re-draw (`redraw`: the SHA-256 of the record it replaces and the reason) is the only second draw
  the log takes for a case.

The steps live in their own modules, re-exported here: draw_record.py (format, reading, digest, time
order), draw_eligibility.py (roster → eligible list), draw_seed.py (hashes, seed, stream, order),
draw_steps.py (prepare … decline), draw_verify.py (re-computing a record).
"""

from __future__ import annotations

from generator.forensic.draw_eligibility import (
    MATTER_SCOPES,
    RULES,
    Eligibility,
    Objection,
    Original,
    eligibility,
    refuse_empty,
    relevant_original_scopes,
    scope_category,
)
from generator.forensic.draw_record import (
    BEIJING,
    DIGEST_KEY,
    MALFORMED,
    METHOD,
    MIN_REDRAW_REASON_CHARS,
    RECORD_FORMAT,
    DrawRefused,
    RecordUnreadable,
    chosen_after,
    instant,
    nfc,
    parse_record,
    record_digest,
    redraw_of,
)
from generator.forensic.draw_seed import (
    COMMIT_TAG,
    DOMAIN_TAG,
    LIST_TAG,
    commitment,
    list_hash,
    list_text,
    netstring,
    parse_numbers,
    public_value,
    seed,
    seed_material,
    shuffle,
    stream_numbers,
    uniform,
)
from generator.forensic.draw_steps import (
    MIN_SECRET_CHARS,
    acknowledge,
    commit,
    compute_order,
    declare,
    decline,
    new_record,
    reveal,
    run,
)
from generator.forensic.draw_verify import SHAPE, verify_record
from generator.forensic.roster import snapshot_from_dict

__all__ = [
    "BEIJING",
    "COMMIT_TAG",
    "DIGEST_KEY",
    "DOMAIN_TAG",
    "DrawRefused",
    "Eligibility",
    "LIST_TAG",
    "MALFORMED",
    "MATTER_SCOPES",
    "METHOD",
    "MIN_REDRAW_REASON_CHARS",
    "MIN_SECRET_CHARS",
    "Objection",
    "Original",
    "RECORD_FORMAT",
    "RULES",
    "RecordUnreadable",
    "SHAPE",
    "acknowledge",
    "chosen_after",
    "commit",
    "commitment",
    "compute_order",
    "declare",
    "decline",
    "eligibility",
    "instant",
    "list_hash",
    "list_text",
    "netstring",
    "new_record",
    "nfc",
    "parse_numbers",
    "parse_record",
    "public_value",
    "record_digest",
    "redraw_of",
    "refuse_empty",
    "relevant_original_scopes",
    "reveal",
    "run",
    "scope_category",
    "seed",
    "seed_material",
    "shuffle",
    "snapshot_from_dict",
    "stream_numbers",
    "uniform",
    "verify_record",
]
