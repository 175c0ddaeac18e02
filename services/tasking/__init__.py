"""Coordination: memberships, taskings of district partnerships, lead partners, retasking and decisions."""
