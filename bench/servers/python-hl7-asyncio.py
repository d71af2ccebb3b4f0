"""python-hl7's asyncio MLLP server (hl7.mllp.start_hl7_server) answering every message AA,
storing nothing. Usage: python3 python-hl7-asyncio.py PORT; prints "listening PORT" once it
accepts connections."""
import asyncio
import sys

from hl7.mllp import start_hl7_server


async def answer(reader, writer):
    try:
        while not writer.is_closing():
            message = await reader.readmessage()
            writer.writemessage(message.create_ack("AA"))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    # The benchmark's messages are UTF-8 and say so in MSH-18; the default is ASCII.
    server = await start_hl7_server(
        answer, host="127.0.0.1", port=int(sys.argv[1]), encoding="utf-8"
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
