"""Budgets: caps on a key's or tenant's spend per period, reserved before a call is sent
and settled with its real cost on the outcome (periods, counters, the step, alerts)."""
