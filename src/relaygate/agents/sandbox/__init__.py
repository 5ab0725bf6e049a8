"""Run untrusted commands under bubblewrap: no network, no capabilities, one writable workspace."""
