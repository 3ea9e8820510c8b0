"""OpenAPI paths of the admin API's resource modules (fedi/routes/api_admin_*.py: posts,
bans, reports, domains, instances and parked activities, accounts, moderation settings),
gathered for fedi/routes/openapi.py. Each module keeps its own part beside its routes;
groups have their own spec (api_admin_groups_spec.py)."""

from __future__ import annotations

from typing import Any

from fedi.routes import (
    api_admin_accounts,
    api_admin_bans,
    api_admin_domains,
    api_admin_instances,
    api_admin_posts,
    api_admin_reports,
    api_admin_settings,
)

RESOURCE_MODULES = (api_admin_posts, api_admin_bans, api_admin_reports, api_admin_domains,
                    api_admin_instances, api_admin_accounts, api_admin_settings)

OPENAPI_PATHS: dict[str, Any] = {
    path: item for module in RESOURCE_MODULES for path, item in module.OPENAPI_PATHS.items()
}
