"""The command line: `app` (gongu.cli.app) is the root; each other module holds one command group."""
