"""Iterate a blocking generator from asyncio without blocking the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


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
