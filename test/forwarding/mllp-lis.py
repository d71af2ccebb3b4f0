"""A LIS for tests: python-hl7's asyncio MLLP server on loopback.

Prints {"port": N} once listening, then one JSON line per message received
({"controlId", "text"}), and answers each with an ACK whose MSA-2 is the message's MSH-10:
AA, or AR (with MSA-3 "unknown sample") the first time it sees a sample ID starting with
--reject-once-prefix. --delay-ms makes it a slow LIS; --port asks for a port (default: any free one). Stops when stdin closes.
"""
import argparse
import asyncio
import json
import sys

import hl7
import hl7.mllp


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--reject-once-prefix", default=None)
    args = parser.parse_args()
    rejected = set()

    async def handle(reader, writer):
        try:
            while not writer.is_closing():
                message = await reader.readmessage()
                text = str(message)
                control_id = str(message.segment("MSH")[10])
                print(json.dumps({"controlId": control_id, "text": text}), flush=True)
                if args.delay_ms:
                    await asyncio.sleep(args.delay_ms / 1000)
                code, note = "AA", ""
                prefix = args.reject_once_prefix
                if prefix:
                    samples = [str(s[3]) for s in message.segments("OBR")] if "OBR" in text else []
                    if any(s.startswith(prefix) for s in samples) and control_id not in rejected:
                        rejected.add(control_id)
                        code, note = "AR", "unknown sample"
                ack = "\r".join(
                    [
                        "MSH|^~\\&|LIS|LAB|LABGATEWAY||20261126120000||ACK^R01^ACK|A"
                        + control_id
                        + "|P|2.5.1",
                        "MSA|" + code + "|" + control_id + ("|" + note if note else ""),
                    ]
                )
                writer.writemessage(hl7.parse(ack))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
            pass
        finally:
            writer.close()

    async def serve():
        server = await hl7.mllp.start_hl7_server(handle, host="127.0.0.1", port=args.port, encoding="utf-8")
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
