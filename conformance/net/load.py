"""Many clients at once on one asyncio event loop: the fault cases' load. Every client that
expects an echo checks every byte it gets back, reads while it writes, and says how its
connection ended.

    outcome = asyncio.run(echo_client("127.0.0.1", port, data))   # None: byte-exact, then FIN
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

CHUNK = 64 * 1024


def family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


async def connect(host: str, port: int, timeout: float = 5.0):
    return await asyncio.wait_for(asyncio.open_connection(host, port, limit=1 << 20), timeout)


async def echo_client(host: str, port: int, data: bytes, half_close: bool = True, chunk: int = CHUNK,
                      rate: float | None = None, timeout: float = 60.0) -> str | None:
    """Send `data` (at `rate` bytes a second, if given) while reading the echo; with
    `half_close`, shut down the sending side and expect FIN after the last byte. None when all
    came back in order; otherwise what went wrong, in words."""
    try:
        reader, writer = await connect(host, port)
    except (OSError, asyncio.TimeoutError) as e:
        return f"could not connect: {e or 'timed out'}"
    return await echo_on(reader, writer, data, half_close, chunk, rate, timeout)


async def echo_on(reader, writer, data: bytes, half_close: bool = True, chunk: int = CHUNK,
                  rate: float | None = None, timeout: float = 60.0) -> str | None:
    async def send() -> None:
        started = time.monotonic()
        for start in range(0, len(data), chunk):
            writer.write(data[start:start + chunk])
            await writer.drain()
            if rate:
                ahead = (start + chunk) / rate - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        if half_close:
            writer.write_eof()

    sender = asyncio.ensure_future(send())
    received = 0
    try:
        async with asyncio.timeout(timeout):
            while half_close or received < len(data):
                block = await reader.read(CHUNK)
                if not block:
                    break
                expected = data[received:received + len(block)]
                if block != expected:
                    at = next((i for i, (a, b) in enumerate(zip(block, expected)) if a != b), len(expected))
                    return f"byte {received + at} differs (or is extra)"
                received += len(block)
            if received < len(data):
                return f"FIN after {received} of {len(data)} bytes: the tail never came"
            await sender
    except TimeoutError:
        return f"{received} of {len(data)} bytes back after {timeout:g} s, then nothing"
    except (ConnectionResetError, BrokenPipeError) as e:
        return f"{type(e).__name__} after {received} of {len(data)} bytes back: RST instead of FIN"
    except OSError as e:
        return f"{e} after {received} of {len(data)} bytes back"
    finally:
        sender.cancel()
        if received < len(data):
            writer.transport.abort()  # a broken session: no need to be polite
        else:
            writer.close()
    return None


async def round_trip(host: str, port: int, data: bytes = b"are you there?\n", timeout: float = 5.0) -> float:
    """Connect, send `data`, read its echo, close: the seconds it took (inf if it never came)."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(data)
                got = await reader.readexactly(len(data))
            finally:
                writer.transport.abort()
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return float("inf")
    return time.monotonic() - started if got == data else float("inf")


async def ping(reader, writer, data: bytes = b"ping\n") -> float:
    """One round trip on an open connection, in seconds."""
    started = time.monotonic()
    writer.write(data)
    got = await reader.readexactly(len(data))
    if got != data:
        raise ValueError(f"echo {got!r} for {data!r}")
    return time.monotonic() - started


async def closed_within(reader, seconds: float) -> str | None:
    """How the server ended the connection within `seconds` ("fin" or "reset"), None if it
    did not; bytes it sends meanwhile are read and dropped."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(CHUNK):
                pass
        return "fin"
    except TimeoutError:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return "reset"


def reset(writer) -> None:
    """Close with RST (SO_LINGER 0), as a crashed client's kernel would."""
    try:
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:  # the server closed it first: it is gone already
        pass
    writer.transport.abort()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0
