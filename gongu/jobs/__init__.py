"""Background jobs: one API (api.py) over the catalog's `jobs` table (archive/jobs.py), the explicit task
table (tasks.py) and the embedded runner (runner.py) used by `gongu worker` and `gongu serve` on a
SQLite home. Callers enqueue and read jobs; they never know which engine runs them."""
