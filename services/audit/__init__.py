"""Audit and accountability for auditors: export, verify, history, state as of a time, replay, completeness.

Not an event-sourced service of its own: it reads every service's event store (``shared.audit`` holds the hash
chain, checkpoints, verification and the personal-data vault) and offers a CLI, REST endpoints and GraphQL fields.
"""
