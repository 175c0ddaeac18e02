"""What the browser runs saw goes to the terminal report (see tests/security/conftest.py)."""

from tests.security.conftest import say

__all__ = ["say"]
