"""Domain services that users and moderators call: accounts, groups, threads, moderation."""
