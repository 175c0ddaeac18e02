"""Shared kernel: contracts, envelope, transport, event store, auth and settings every service imports."""
