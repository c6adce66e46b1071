"""Helpers shared by every test suite (plain Python, no third-party imports)."""
