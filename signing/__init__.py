"""Signing: PAdES sealing (seal), visible appearances (seal_image), keys and the demo PKI (keys), trust roots
(trust), the local RFC 3161 TSA (tsa), verification (verify) with its status objects (status), and PDF/A
profile reading (pdfa). It runs at issue time; the archive uses it to check what it ingests."""
