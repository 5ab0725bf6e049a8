"""The record/replay provider: `{type: replay, of: <provider>, mode: record|replay|auto}`."""
