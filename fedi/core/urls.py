"""The URL scheme of local objects. ActivityPub ids and web pages share these URLs
(content negotiation decides), so a link from Mastodon lands on the right page."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Urls:
    base: str

    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    def user(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def group(self, name: str) -> str:
        return f"{self.base}/groups/{name}"

    def actor(self, kind: str, name: str) -> str:
        return self.group(name) if kind == "Group" else self.user(name)

    def inbox(self, actor_id: str) -> str:
        return f"{actor_id}/inbox"

    def outbox(self, actor_id: str) -> str:
        return f"{actor_id}/outbox"

    def followers(self, actor_id: str) -> str:
        return f"{actor_id}/followers"

    def following(self, actor_id: str) -> str:
        return f"{actor_id}/following"

    def featured(self, group_id: str) -> str:
        return f"{group_id}/featured"

    def moderators(self, group_id: str) -> str:
        return f"{group_id}/moderators"

    def key_id(self, actor_id: str) -> str:
        return f"{actor_id}#main-key"

    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def post(self, post_id: int) -> str:
        return f"{self.base}/posts/{post_id}"

    def context(self, thread_id: int) -> str:
        return f"{self.base}/posts/{thread_id}/context"

    def activity(self, token: str) -> str:
        return f"{self.base}/activities/{token}"
