"""The capture and camera-simulator HTTP servers (mjpeg.Connections) hold clients to their
limits: a connection cap, a read timeout and a header count."""
from __future__ import annotations

import asyncio
import time

from feeds.ingest.config import ClientLimits
from feeds.video import mjpeg


async def _route(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    async def answer(req: mjpeg.Request) -> None:
        writer.write(mjpeg.response(200, f"hello {req.path}\n"))
        await writer.drain()
    await mjpeg.serve_one(reader, writer, answer)


async def _exchange(port: int, data: bytes) -> tuple[bytes, float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    t0 = time.monotonic()
    try:
        got = await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:  # closed with our bytes unread
        got = b""
    writer.close()
    return got, time.monotonic() - t0


def test_cap_timeout_and_header_count():
    async def main() -> None:
        conns = mjpeg.Connections(_route, ClientLimits(read_timeout_s=0.5, max_connections=3,
                                                       max_headers=8))
        server = await asyncio.start_server(conns, "127.0.0.1", 0, limit=conns.head_limit)
        port = server.sockets[0].getsockname()[1]
        async with server:
            got, _ = await _exchange(port, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            assert got.startswith(b"HTTP/1.1 200") and got.endswith(b"hello /a\n")
            got, took = await _exchange(port, b"GET /a HTTP/1.1\r\n")  # half a request
            assert got == b"" and 0.4 < took < 2  # closed by the read timeout
            many = b"".join(b"X-%d: y\r\n" % i for i in range(12))
            got, _ = await _exchange(port, b"GET /a HTTP/1.1\r\n" + many + b"\r\n")
            assert got == b""  # too many headers: no answer
            held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
            await asyncio.sleep(0.05)
            got, _ = await _exchange(port, b"")  # read before sending: the answer is there
            assert got.startswith(b"HTTP/1.1 503")  # the fourth is refused
            for _, w in held:
                w.close()
            await conns.close()
    asyncio.run(main())
