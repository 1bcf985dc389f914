"""A virtual serial cable: two tty paths whose bytes cross over, for RTU without hardware.

One pty pair has a single usable path (the master has none), so two pairs are joined by a
relay on the event loop: what is written to one path is read from the other, like socat.
"""

import asyncio
import contextlib
import os
import tty
from types import TracebackType
from typing import Self

_CHUNK = 4096


class NullModem:
    """Two tty device paths, :attr:`a` and :attr:`b`, wired back to back while entered."""

    def __init__(self) -> None:
        self.a = ""
        self.b = ""
        self._fds: list[int] = []
        self._masters: tuple[int, int] = (-1, -1)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> Self:
        master_a, slave_a = os.openpty()
        master_b, slave_b = os.openpty()
        self._fds = [master_a, slave_a, master_b, slave_b]
        for slave in (slave_a, slave_b):
            tty.setraw(slave)  # no echo, no line editing: RTU frames are binary
        for master in (master_a, master_b):
            os.set_blocking(master, False)
        # The slave fds stay open so a master never reads EIO before a client opens its end.
        self.a, self.b = os.ttyname(slave_a), os.ttyname(slave_b)
        self._masters = (master_a, master_b)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(master_a, self._relay, master_a, master_b)
        self._loop.add_reader(master_b, self._relay, master_b, master_a)
        return self

    @staticmethod
    def _relay(source: int, target: int) -> None:
        try:
            data = os.read(source, _CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # the far end closed its path: nothing to carry until it reopens
            return
        with contextlib.suppress(BlockingIOError):
            os.write(target, data)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            for master in self._masters:
                self._loop.remove_reader(master)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []
