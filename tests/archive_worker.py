"""A separate process that ingests one case (for the crash and concurrency tests).

usage: python -m tests.archive_worker HOME CASE.json REPORT.pdf BY"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    home, case, report, by = sys.argv[1:5]
    from archive.ingest import IngestRefused, ingest
    from generator.loading import load_case
    from gongu.archiving import build_archive
    from gongu.settings import load_settings

    archive = build_archive(load_settings(home))
    try:
        result = ingest(archive, load_case(case), Path(report), by=by)
    except IngestRefused as exc:
        print("REFUSED", exc.reasons)
        return 3
    finally:
        archive.close()
    print("CREATED" if result.created else "EXISTING", result.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
