"""The web workspace (issue 15): server-rendered pages over the same pipeline the CLI uses."""
