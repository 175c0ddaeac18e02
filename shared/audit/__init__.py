"""Audit and accountability: hash-chained stored events, signed checkpoints, verification, a personal-data vault
(crypto-shredding) and the list of changes that must carry a decision. docs/audit.md is the specification."""
