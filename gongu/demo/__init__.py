"""The demo over the bundled examples (`make demo`): survey reports, forensic appraisals, the web workspace."""
