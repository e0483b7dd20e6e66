"""A TCP proxy on 127.0.0.1 whose line can be cut, to play a database or Redis outage.

``cut()`` aborts every open connection and closes the listening socket, so clients see what
they see when the server dies: their connections reset and new ones refused. ``restore()``
listens again on the same port. asyncio only, no dependency.
"""

from __future__ import annotations

import asyncio
import socket


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """Forward ``127.0.0.1:port`` to ``target_port``; start it on the loop that will cut it."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self._server: asyncio.base_events.Server | None = None
        self._transports: set[asyncio.Transport] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        return self

    async def cut(self) -> None:
        """Reset every connection and refuse new ones until :meth:`restore`."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def restore(self) -> None:
        await self.start()

    async def stop(self) -> None:
        await self.cut()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, up_writer.transport}
        self._transports |= pair
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._transports -= pair


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.transport.abort()
