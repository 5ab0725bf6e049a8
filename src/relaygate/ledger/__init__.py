"""The usage ledger: one row per upstream call, written in batches off the request path."""
