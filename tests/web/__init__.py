"""Tests of the web forum (fedi/web)."""
