"""Closed-loop chat load for the speed benchmark (issue #8): N concurrent visitors, each holding multi-turn
conversations (a unique sender per conversation) one message at a time, over REST or socket.io, for a fixed time.

A message's latency is from sending it to having every reply: over REST the webhook's HTTP answer (Rasa collects
all the replies first), over socket.io the ack Rasa sends after its last `bot_uttered`. Replies are checked:
none, an HTTP status other than 200, a timeout or the apology ("something went wrong") is an error.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import socketio

from bench.load import APOLOGY  # never_silent's apology

TIMEOUT = 60.0

# What visitors of the website ask, as whole conversations: the same scripts for our assistant and the baseline.
SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("hello", "when was IJM founded?", "tell me more", "thank you"),
    ("where does IJM work?", "how can I donate?", "bye"),
    ("how can I fundraise?", "what can you do?", "thanks a lot"),
    ("what has IJM Canada achieved in 25 years?", "how can I talk to a person?", "goodbye"),
)


@dataclass
class LoadResult:
    channel: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per answered message
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        if len(self.error_examples) < 5:
            self.error_examples.append(f"{kind}: {example}")


def _check(texts: list[str]) -> str | None:
    if not texts:
        return "no reply"
    if any(APOLOGY in text.lower() for text in texts):
        return "apology"
    return None


class RestVisitor:
    def __init__(self, rasa_url: str, session: aiohttp.ClientSession, origin: str | None = None) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.session = session
        self.sender = ""

    async def start(self) -> None:
        self.sender = uuid.uuid4().hex

    async def say(self, text: str) -> list[str]:
        async with self.session.post(
            self.url,
            params={"sender": self.sender},
            json={"sender": self.sender, "message": text},
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
        ) as answer:
            if answer.status != 200:
                raise RuntimeError(f"HTTP {answer.status}")
            return [m.get("text") or "" for m in await answer.json()]

    async def stop(self) -> None:
        pass


class SocketIOVisitor:
    """One socket.io connection per conversation, as the widget makes: session_request, then user_uttered with
    an ack (which Rasa sends once it has sent every bot_uttered of the answer)."""

    def __init__(self, rasa_url: str, session: aiohttp.ClientSession, origin: str | None = None) -> None:
        self.rasa_url = rasa_url
        self.http = session
        self.origin = origin  # the page the widget is on: our channel accepts only ALLOWED_ORIGINS
        self.client: socketio.AsyncClient | None = None
        self.replies: list[str] = []
        self.sender = ""

    async def start(self) -> None:
        self.sender = uuid.uuid4().hex
        self.replies = []
        client = socketio.AsyncClient(reconnection=False, http_session=self.http, ssl_verify=False)
        confirmed = asyncio.get_running_loop().create_future()
        client.on("bot_uttered", lambda data: self.replies.append((data or {}).get("text") or ""))

        def on_confirm(_data=None) -> None:
            if not confirmed.done():
                confirmed.set_result(True)

        client.on("session_confirm", on_confirm)
        await client.connect(
            f"{self.rasa_url}?conversation={self.sender}",
            transports=["websocket"],
            headers={"Origin": self.origin} if self.origin else {},
            wait_timeout=TIMEOUT,
        )
        await client.emit("session_request", {"session_id": self.sender})
        await asyncio.wait_for(confirmed, TIMEOUT)
        self.client = client

    async def say(self, text: str) -> list[str]:
        assert self.client is not None
        self.replies = []
        await self.client.call("user_uttered", {"message": text, "session_id": self.sender}, timeout=TIMEOUT)
        return list(self.replies)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.disconnect()
            self.client = None


VISITORS = {"rest": RestVisitor, "socketio": SocketIOVisitor}


async def _visitor(
    result: LoadResult, rasa_url: str, origin: str | None, session: aiohttp.ClientSession, deadline: float, offset: int
) -> None:
    scripts = itertools.islice(itertools.cycle(SCRIPTS), offset % len(SCRIPTS), None)
    while time.monotonic() < deadline:
        visitor = VISITORS[result.channel](rasa_url, session, origin)
        try:
            await visitor.start()
        except Exception as error:
            result.error("connect", repr(error))
            await asyncio.sleep(0.5)
            continue
        try:
            for text in next(scripts):
                if time.monotonic() >= deadline:
                    break
                started = time.monotonic()
                try:
                    texts = await visitor.say(text)
                except Exception as error:
                    result.error(type(error).__name__, f"{text!r}: {error!r}")
                    break
                problem = _check(texts)
                if problem:
                    result.error(problem, f"{text!r} -> {texts!r}")
                    break
                result.latencies.append(time.monotonic() - started)
        finally:
            await visitor.stop()


async def run_load(
    rasa_url: str, channel: str, concurrency: int, seconds: float, origin: str | None = None
) -> LoadResult:
    """`concurrency` visitors talking for `seconds` (conversations still running then stop after their message)."""
    result = LoadResult(channel=channel, concurrency=concurrency)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        deadline = started + seconds
        visitors = (_visitor(result, rasa_url, origin, session, deadline, n) for n in range(concurrency))
        await asyncio.gather(*visitors)
        result.seconds = time.monotonic() - started
    return result


async def first_answer(rasa_url: str, give_up_at: float) -> float:
    """Poll the REST channel with a message until it is answered; returns the monotonic time of the answer."""
    async with aiohttp.ClientSession() as session:
        visitor = RestVisitor(rasa_url, session)
        await visitor.start()
        while True:
            try:
                if not _check(await visitor.say("hello")):
                    return time.monotonic()
            except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError):
                pass
            if time.monotonic() > give_up_at:
                raise TimeoutError(f"{rasa_url} did not answer")
            await asyncio.sleep(0.1)
