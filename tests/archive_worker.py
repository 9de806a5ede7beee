"""A separate process for the crash and concurrency tests.

usage: python -m tests.archive_worker ingest HOME CASE.json REPORT.pdf BY
       python -m tests.archive_worker dispose HOME CASE-ID NOW BY     (execute an approved disposal)"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    action, home = sys.argv[1:3]
    from generator.clock import FixedClock
    from gongu.pipeline.archiving import build_archive
    from gongu.settings import load_settings

    archive = build_archive(load_settings(home))
    try:
        if action == "dispose":
            from archive.disposal import execute

            case_id, now, by = sys.argv[3:6]
            archive.clock = FixedClock.parse(now)
            execute(archive, case_id, by=by)
            print("DISPOSED")
            return 0
        from archive.ingest import IngestRefused, ingest
        from generator.loading import load_case

        case, report, by = sys.argv[3:6]
        try:
            result = ingest(archive, load_case(case), Path(report), by=by)
        except IngestRefused as exc:
            print("REFUSED", exc.reasons)
            return 3
        print("CREATED" if result.created else "EXISTING", result.path)
        return 0
    finally:
        archive.close()


if __name__ == "__main__":
    sys.exit(main())
