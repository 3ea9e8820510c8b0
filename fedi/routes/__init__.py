"""The thin HTTP layer; each module contributes a list of routes."""
