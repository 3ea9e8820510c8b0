"""Values many tests name: the ActivityStreams namespace and the base URL of the app that
``tests.conftest.app_client`` serves (make_settings' default port)."""

from __future__ import annotations

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = AS + "#Public"
BASE = "http://127.0.0.1:8000"
