"""A Discord API emulator on 127.0.0.1: REST v10 and the Gateway, enough for one guild.

The real discord.py client connects to it (see :func:`point_discord_py_at`). Every
REST request is recorded, so tests drive events through the Gateway and then
wait for the calls the bot makes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.discord_emulator import payloads as p

log = logging.getLogger(__name__)

HEARTBEAT_MS = 41_250


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    """The JSON body, or a multipart request's ``payload_json``."""
    response: Any = None
    """What the emulator answered (a message payload for message endpoints)."""
    at: float = field(default_factory=time.monotonic)
    """When the request arrived (``time.monotonic()``), to check the pace of edits."""

    @property
    def flags(self) -> int:
        data = self.body.get("data", self.body) if isinstance(self.body, dict) else {}
        return int((data or {}).get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)


@dataclass
class Guild:
    id: str = field(default_factory=p.snowflake)
    channel_id: str = field(default_factory=p.snowflake)
    admin_role_id: str = field(default_factory=p.snowflake)


class DiscordEmulator:
    """REST + Gateway for one bot in one guild with one text channel."""

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.application_id = p.snowflake()
        self.bot_user = p.user(self.application_id, "kb-bot", bot=True)
        self.guild = Guild()
        self.channel = p.text_channel(self.guild.channel_id, self.guild.id, "questions")
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        """Per channel (or thread) id, its messages in the order they were sent."""
        self.requests: list[Request] = []
        self.unknown: list[str] = []
        self.commands: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = 0
        self._identified = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway/", self._gateway)
        app.router.add_get("/files/{id}/{name}", self._file)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def rest_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway/"

    # --- waiting on what the bot does ---------------------------------------------------

    def mark(self) -> int:
        """A position in the request log; pass it as ``since`` to see only later calls."""
        return len(self.requests)

    async def wait_for(
        self,
        method: str,
        path: str,
        *,
        since: int = 0,
        timeout: float = 60.0,
        where: Callable[[Request], bool] | None = None,
    ) -> Request:
        """The first request at or after ``since`` whose path matches the regex ``path``
        (and that satisfies ``where``, when given)."""
        pattern = re.compile(path)

        def find() -> Request | None:
            for request in self.requests[since:]:
                if (
                    request.method == method
                    and pattern.search(request.path)
                    and (where is None or where(request))
                ):
                    return request
            return None

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(find), timeout)
        found = find()
        assert found is not None
        return found

    def calls(self, method: str, path: str, *, since: int = 0) -> list[Request]:
        pattern = re.compile(path)
        return [r for r in self.requests[since:] if r.method == method and pattern.search(r.path)]

    # --- events the tests send ----------------------------------------------------------

    async def wait_identified(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._identified.wait(), timeout)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._sequence += 1
        payload = {"op": 0, "t": event, "s": self._sequence, "d": data}
        for socket in self._sockets:
            if not socket.closed:
                await socket.send_str(json.dumps(payload))

    def person(self, name: str, *, admin: bool = False) -> dict[str, Any]:
        """A guild member (dict with ``user``) who can run commands or write messages."""
        user = p.user(p.snowflake(), name)
        roles = [self.guild.admin_role_id] if admin else []
        return p.member(user, roles)

    async def slash(
        self,
        name: str,
        invoker: dict[str, Any],
        *,
        admin: bool = False,
        channel: dict[str, Any] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Run ``/name`` as ``invoker``; ``admin`` adds the Manage Server permission."""
        command = self.commands.get(name)
        assert command is not None, f"/{name} was never synced; synced: {sorted(self.commands)}"
        permissions = p.EVERYONE_PERMISSIONS | (p.MANAGE_GUILD if admin else 0)
        payload = p.interaction(
            2,
            p.command_data(name, options, command["id"]),
            application_id=self.application_id,
            guild_id=self.guild.id,
            channel=channel or self.channel,
            invoker=invoker,
            permissions=permissions,
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def press(
        self, custom_id: str, invoker: dict[str, Any], message_payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Press a button with ``custom_id`` under ``message_payload``."""
        payload = p.interaction(
            3,
            {"custom_id": custom_id, "component_type": 2},
            application_id=self.application_id,
            guild_id=self.guild.id,
            channel=self.channel,
            invoker=invoker,
            permissions=p.EVERYONE_PERMISSIONS,
            message_payload=message_payload,
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def say(
        self,
        author: dict[str, Any],
        content: str,
        *,
        channel_id: str | None = None,
        mention_bot: bool = False,
    ) -> dict[str, Any]:
        """A member writes ``content`` in the channel (or a thread)."""
        channel_id = channel_id or self.guild.channel_id
        payload = p.message(
            channel_id,
            author["user"],
            content,
            guild_id=self.guild.id,
            mentions=[self.bot_user] if mention_bot else [],
        )
        payload["member"] = {k: v for k, v in author.items() if k != "user"}
        self._store(payload)
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    def upload(self, filename: str, data: bytes) -> dict[str, Any]:
        """An attachment (served by the emulator's CDN) to pass as a slash-command option."""
        attachment_id = p.snowflake()
        self.files[attachment_id] = data
        url = f"http://127.0.0.1:{self.port}/files/{attachment_id}/{filename}"
        return p.attachment(attachment_id, filename, len(data), url)

    async def direct_message(self, author: dict[str, Any], content: str) -> dict[str, Any]:
        """``author`` writes to the bot in a DM (no guild)."""
        payload = p.message(p.snowflake(), author["user"], content)
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["id"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    # --- Gateway ------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}})
        async for frame in socket:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op = message.get("op")
            if op == 1:
                await socket.send_json({"op": 11})
            elif op == 2:
                assert message["d"]["token"] == self.token
                await self._ready()
                self._identified.set()
            elif op == 6:
                await socket.send_json({"op": 9, "d": False})
        return socket

    async def _ready(self) -> None:
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.bot_user,
                "guilds": [{"id": self.guild.id, "unavailable": True}],
                "session_id": "emulated-session",
                "resume_gateway_url": self.gateway_url,
                "shard": [0, 1],
                "application": {"id": self.application_id, "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        await self.dispatch("GUILD_CREATE", self._guild_payload())

    def _guild_payload(self) -> dict[str, Any]:
        g = self.guild
        return {
            "id": g.id,
            "name": "Emulated guild",
            "icon": None,
            "owner_id": p.snowflake(),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [
                p.role(g.id, "@everyone", p.EVERYONE_PERMISSIONS),
                p.role(g.admin_role_id, "kb-admins", p.EVERYONE_PERMISSIONS),
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": p.now(),
            "large": False,
            "unavailable": False,
            "member_count": 3,
            "voice_states": [],
            "members": [p.member(self.bot_user)],
            "channels": [self.channel],
            "threads": list(self.threads.values()),  # active threads, as after a restart
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        }

    # --- REST ---------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await _body(request)
        recorded = Request(request.method, path, dict(request.query), body)
        if request.headers.get("Authorization") != f"Bot {self.token}" and not path.startswith(
            ("/interactions/", "/webhooks/")
        ):
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        result = self._route(recorded)
        recorded.response = result
        async with self._changed:
            self.requests.append(recorded)
            self._changed.notify_all()
        if result is None:
            self.unknown.append(f"{request.method} {path}")
            log.error("emulator: no route for %s %s", request.method, path)
            return _json({"message": "404: Not Found", "code": 0}, status=404)
        if result == 204:
            return web.Response(status=204)
        if result is _NOT_FOUND:
            return _json({"message": result["message"], "code": result["code"]}, status=404)
        return _json(result)

    def _route(self, r: Request) -> Any:
        m, path, body = r.method, r.path, r.body
        app = self.application_id
        if m == "GET" and path == "/users/@me":
            return self.bot_user
        if m == "GET" and path == "/oauth2/applications/@me":
            return {
                "id": app,
                "name": "kb-bot",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": p.user(p.snowflake(), "owner"),
                "summary": "",
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
            }
        if m == "GET" and path in ("/gateway", "/gateway/bot"):
            return {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        if m == "PUT" and re.fullmatch(rf"/applications/{app}(/guilds/\d+)?/commands", path):
            synced = []
            for command in body or []:
                command = {
                    "id": p.snowflake(),
                    "application_id": app,
                    "version": p.snowflake(),
                    "default_member_permissions": None,
                    "nsfw": False,
                    "type": 1,
                    **command,
                }
                self.commands[command["name"]] = command
                synced.append(command)
            return synced
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return self._callback(match[1], body)
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)", path):
            if m in ("PATCH", "GET"):
                return self._webhook_message(body or {}, self.guild.channel_id)
            if m == "DELETE":
                return 204
        if m == "POST" and re.fullmatch(rf"/webhooks/{app}/[^/]+", path):
            return self._webhook_message(body or {}, self.guild.channel_id)
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            return self._create_thread(match[1], match[2], body or {})
        if m == "POST" and (match := re.fullmatch(r"/channels/(\d+)/messages", path)):
            return self._store(
                p.message(
                    match[1],
                    self.bot_user,
                    (body or {}).get("content") or "",
                    guild_id=self.guild.id,
                    embeds=(body or {}).get("embeds"),
                    components=(body or {}).get("components"),
                )
            )
        if m == "GET" and (match := re.fullmatch(r"/channels/(\d+)/messages", path)):
            return self._history(match[1], r.query)
        if m == "PATCH" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)):
            return self._edit(match[1], match[2], body or {})
        if m == "GET" and (match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)):
            found = [x for x in self.messages.get(match[1], []) if x["id"] == match[2]]
            return found[0] if found else _NOT_FOUND
        if m == "POST" and re.fullmatch(r"/channels/\d+/typing", path):
            return 204
        if m == "GET" and (match := re.fullmatch(r"/channels/(\d+)", path)):
            return self.threads.get(match[1]) or self.channel
        return None

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type")
        data = body.get("data") or {}
        flags = int(data.get("flags") or 0)
        result: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": kind},
        }
        if kind == 4:
            result["resource"]["message"] = self._webhook_message(data, self.guild.channel_id)
        return result

    def _webhook_message(self, body: dict[str, Any], channel_id: str) -> dict[str, Any]:
        return p.message(
            channel_id,
            self.bot_user,
            body.get("content") or "",
            guild_id=self.guild.id,
            embeds=body.get("embeds"),
            components=body.get("components"),
            flags=int(body.get("flags") or 0),
            webhook_id=self.application_id,
        )

    def _store(self, message: dict[str, Any]) -> dict[str, Any]:
        self.messages.setdefault(message["channel_id"], []).append(message)
        return message

    def _edit(self, channel_id: str, message_id: str, body: dict[str, Any]) -> Any:
        """PATCH /channels/{id}/messages/{id}: the given fields replace the stored ones."""
        for message in self.messages.get(channel_id, []):
            if message["id"] == message_id:
                for key in ("content", "embeds", "components"):
                    if key in body:
                        message[key] = (
                            body[key] if body[key] is not None else ("" if key == "content" else [])
                        )
                message["edited_timestamp"] = "2026-01-01T00:00:00+00:00"
                return message
        return _NOT_FOUND

    def _history(self, channel_id: str, query: dict[str, str]) -> list[dict[str, Any]]:
        """GET /channels/{id}/messages: newest first, ``before``/``after`` exclusive, ``limit``."""
        found = self.messages.get(channel_id, [])
        if "before" in query:
            found = [x for x in found if int(x["id"]) < int(query["before"])]
        if "after" in query:
            found = [x for x in found if int(x["id"]) > int(query["after"])]
        limit = max(1, min(int(query.get("limit", 50)), 100))
        chosen = found[:limit] if "after" in query else found[-limit:]
        return chosen[::-1]

    def _create_thread(
        self, channel_id: str, message_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        thread_id = message_id  # as on Discord: a thread started from a message shares its id
        created = p.thread(
            thread_id, self.guild.id, channel_id, self.bot_user["id"], body.get("name", "thread")
        )
        self.threads[thread_id] = created
        asyncio.get_running_loop().create_task(
            self.dispatch("THREAD_CREATE", {**created, "newly_created": True})
        )
        return created


async def _body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) == "payload_json":
                return json.loads(await part.text())  # type: ignore[union-attr]
        return None
    text = await request.text()
    return json.loads(text) if text else None


_NOT_FOUND = {"message": "Unknown Message", "code": 10008, "status": 404}


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py checks the content type for equality: no "; charset=utf-8".
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def point_discord_py_at(emulator: DiscordEmulator) -> tuple[Any, Any]:
    """Redirect discord.py's REST base and Gateway URL; returns the old values."""
    import discord.gateway
    import discord.http
    import yarl

    old = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    discord.http.Route.BASE = emulator.rest_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
    return old


def restore_discord_py(old: tuple[Any, Any]) -> None:
    import discord.gateway
    import discord.http

    discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old
