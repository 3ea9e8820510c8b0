"""Helpers shared by the tests (paths, fixtures data)."""
