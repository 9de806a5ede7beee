"""The use cases the command line, the web workspace and the demo all call: issue, review, seal, archive,
index, search, the ledger, the draw records and the case workspace. Each step calls into the lower
packages (generator, forms, signing, archive, index) and holds no presentation."""
