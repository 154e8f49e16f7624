"""Payloads shaped like Discord's (API v10): users, guilds, channels, messages, interactions."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

_ids = itertools.count(1_200_000_000_000_000_000)

MANAGE_GUILD = 1 << 5
SEND_MESSAGES = 1 << 11
EVERYONE_PERMISSIONS = (
    (1 << 10) | SEND_MESSAGES | (1 << 16) | (1 << 31)
)  # view, send, history, slash


def snowflake() -> str:
    return str(next(_ids))


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def member(person: dict[str, Any], roles: list[str] | None = None) -> dict[str, Any]:
    return {
        "user": person,
        "roles": roles or [],
        "joined_at": now(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }


def text_channel(channel_id: str, guild_id: str, name: str) -> dict[str, Any]:
    return {
        "id": channel_id,
        "guild_id": guild_id,
        "type": 0,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def thread(
    thread_id: str, guild_id: str, parent_id: str, owner_id: str, name: str
) -> dict[str, Any]:
    return {
        "id": thread_id,
        "guild_id": guild_id,
        "parent_id": parent_id,
        "owner_id": owner_id,
        "type": 11,
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": now(),
            "locked": False,
        },
    }


def role(role_id: str, name: str, permissions: int) -> dict[str, Any]:
    return {
        "id": role_id,
        "name": name,
        "color": 0,
        "hoist": False,
        "position": 0 if name == "@everyone" else 1,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def message(
    channel_id: str,
    author: dict[str, Any],
    content: str = "",
    *,
    guild_id: str | None = None,
    mentions: list[dict[str, Any]] | None = None,
    embeds: list[dict[str, Any]] | None = None,
    components: list[dict[str, Any]] | None = None,
    flags: int = 0,
    webhook_id: str | None = None,
    interaction_type: int = 0,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": snowflake(),
        "channel_id": channel_id,
        "author": author,
        "content": content,
        "timestamp": now(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds or [],
        "pinned": False,
        "type": interaction_type,
        "flags": flags,
        "components": components or [],
    }
    if guild_id:
        data["guild_id"] = guild_id
    if webhook_id:
        data["webhook_id"] = webhook_id
    return data


def interaction(
    kind: int,
    data: dict[str, Any],
    *,
    application_id: str,
    guild_id: str,
    channel: dict[str, Any],
    invoker: dict[str, Any],
    permissions: int,
    message_payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": application_id,
        "type": kind,
        "data": data,
        "guild_id": guild_id,
        "channel_id": channel["id"],
        "channel": {**channel, "permissions": str(permissions)},
        "member": {**invoker, "permissions": str(permissions)},
        "token": f"interaction-token-{snowflake()}",
        "version": 1,
        "app_permissions": str(EVERYONE_PERMISSIONS),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": 25 * 1024 * 1024,
    }
    if message_payload is not None:
        payload["message"] = message_payload
    return payload


def attachment(attachment_id: str, filename: str, size: int, url: str) -> dict[str, Any]:
    return {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": "text/plain",
    }


def command_data(name: str, options: dict[str, Any], command_id: str) -> dict[str, Any]:
    """Options: strings, or attachment payloads (sent as type 11 with ``resolved`` data)."""
    data: dict[str, Any] = {"id": command_id, "name": name, "type": 1, "options": []}
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, dict):  # an attachment
            data["options"].append({"name": key, "type": 11, "value": value["id"]})
            data.setdefault("resolved", {}).setdefault("attachments", {})[value["id"]] = value
        else:
            data["options"].append({"name": key, "type": 3, "value": value})
    return data
