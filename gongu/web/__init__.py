"""The web workspace: server-rendered pages over the same pipeline the CLI uses."""
