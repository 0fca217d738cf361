"""The worker pool: one process per shard of the notes, kept for the whole build."""

from __future__ import annotations

import signal
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, Self, TypeVar

from ..result import NoteOutput
from .jobs import Context, forget_parsed, start

BATCH = 64  # notes per worker task
Progress = Callable[[str, int, int], None]  # (stage, notes done, notes in all)
Sink = Callable[[Sequence[NoteOutput]], None]  # takes notes' outputs as they are made
T = TypeVar("T")


def _ignore_interrupts() -> None:
    """Leave Ctrl-C to the main process (a terminal sends it to every worker too): it
    stops the build, and the workers end with their pool instead of printing tracebacks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Item(Protocol):
    @property
    def path(self) -> str: ...


def batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """The items, ``size`` at a time."""
    for begin in range(0, len(items), size):
        yield items[begin:begin + size]


class Workers:
    """Worker processes, one per shard of the notes (by a hash of the path), kept for the
    whole build: a note is surveyed and extracted by the same process, which keeps it
    parsed in between instead of sending it back and forth."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pools: list[ProcessPoolExecutor] = []

    def __enter__(self) -> Self:
        forget_parsed()
        return self

    def __exit__(self, *exc: object) -> None:
        forget_parsed()
        for pool in self.pools:
            pool.shutdown(cancel_futures=True)

    def run(self, function: Callable[..., list[Any]], items: Sequence[_Item],
            context: Context, progress: Progress | None, stage: str,
            extra: tuple[object, ...] = (), sink: Sink | None = None) -> list[Any]:
        """Run ``function(batch, *extra)`` over batches of items (inline when few), giving
        each batch's results to ``sink`` as they come."""
        done, total = 0, len(items)
        results: list[Any] = []
        if self.jobs <= 1 or total <= BATCH:
            start(context)
            for batch in batches(items):
                found = function(batch, *extra)
                results.extend(found)
                if sink:
                    sink(found)
                done += len(batch)
                if progress:
                    progress(stage, done, total)
            return results
        if not self.pools:
            self.pools = [ProcessPoolExecutor(max_workers=1, initializer=_ignore_interrupts)
                          for _ in range(self.jobs)]
        shards: list[list[_Item]] = [[] for _ in self.pools]
        for item in items:
            shards[zlib.crc32(item.path.encode("utf-8", "surrogatepass")) % self.jobs].append(
                item)
        futures = {}
        for pool, shard in zip(self.pools, shards):
            pool.submit(start, context)  # one process per pool: runs first
            for batch in batches(shard):
                futures[pool.submit(function, batch, *extra)] = len(batch)
        for future in as_completed(futures):
            found = future.result()
            results.extend(found)
            if sink:
                sink(found)
            done += futures[future]
            if progress:
                progress(stage, done, total)
        return results
