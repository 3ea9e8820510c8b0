"""Inbound activities: what other servers send, taken in by the workers.

``queue.py`` claims the stored activities and runs their handler from ``dispatch.py``
(one module per activity type, named after it: ``follow.py``, ``create.py``,
``delete.py`` ...); ``types.py`` names the known types for the inbox route;
``backfill.py`` reads a newly followed remote group's history through the Announce
handler. Shared helpers: ``common.py``, ``posts.py`` (remote posts as rows),
``votes.py``, ``authority.py`` (remote moderators), ``group_collections.py``,
``outcomes.py``. This package imports nothing itself.
"""
