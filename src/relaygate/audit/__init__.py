"""The audit log of admin actions (docs/audit.md)."""
