#!/usr/bin/env python3
"""asyncio TCP echo server: one event loop, a coroutine per client (asyncio streams)."""

import asyncio
import signal
import sys

from lab_cli import PROG, host_port, listen, parse_server_args, reason

CHUNK = 64 * 1024


# guide:echo begin
async def echo(reader, writer):
    address = writer.get_extra_info("peername")  # None if the client reset before we got here
    peer = host_port(*address[:2]) if address else "a client"
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            # write() only queues; drain() waits while the queue is over its limit, which
            # is how a client that does not read slows us down instead of filling memory.
            await writer.drain()
        # The client half-closed: the FIN goes out after the last queued byte.
        writer.write_eof()
    except OSError as err:
        print(f"{PROG}: {peer}: {reason(err)}", file=sys.stderr)
    except asyncio.CancelledError:
        pass  # the server is stopping (Python 3.11 would log a cancelled session as an error)
    finally:
        writer.close()
# guide:echo end


async def main(args):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Our own socket, not start_server(host, port): asyncio would set IPV6_V6ONLY on it
    # and so refuse IPv4 clients on the default host ::.
    server = await asyncio.start_server(echo, sock=listen(args.host, args.port))
    await stop.wait()
    # Stop accepting; asyncio.run() then cancels the sessions still open.
    server.close()


if __name__ == "__main__":
    asyncio.run(main(parse_server_args(__doc__)))
