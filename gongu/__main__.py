"""`python -m gongu`: the same command line as `.venv/bin/gongu`."""

from gongu.cli.app import main

main()
