"""Iterate a blocking generator from asyncio without blocking the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def pump(
    produce: Callable[[], Iterator[T]], put: Callable[[str, Any], None], stop: threading.Event
) -> None:
    """Run ``produce()`` to the end, handing on ``("item", x)``, then ``("end", None)`` or
    ``("error", exc)``; once ``stop`` is set the generator is closed after its current item.
    For the body of a worker thread feeding a queue."""
    try:
        iterator = produce()
        try:
            for item in iterator:
                put("item", item)
                if stop.is_set():
                    break
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        put("end", None)
    except BaseException as exc:
        put("error", exc)


async def in_thread(produce: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """The items of ``produce()``, computed in a worker thread.

    Errors raised by the generator are raised here. If the consumer stops early,
    the generator is closed after its current item.
    """
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def put(kind: str, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, (kind, value))
        except RuntimeError:  # the loop has closed: nobody is listening any more
            stop.set()

    def run() -> None:
        pump(produce, put, stop)

    worker = threading.Thread(target=run, name="kb-stream", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = await items.get()
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        stop.set()
