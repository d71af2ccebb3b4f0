"""A blocking thread-per-connection MLLP server (socketserver.ThreadingTCPServer) answering every
message AA, storing nothing. Usage: python3 python-threads.py PORT [--msh-only]; prints
"listening PORT MODE" once it accepts connections.

With python-hl7 importable it parses each message and builds the ACK with it, as the asyncio
server does, so that the two differ only in how they wait for the network (MODE python-hl7).
Without it, or with --msh-only, the ACK is built from MSH alone (MODE msh-only): what the
threads and the framing cost without a parser."""
import socket
import socketserver
import sys
from datetime import datetime, timezone

hl7 = None
if "--msh-only" not in sys.argv:
    try:
        import hl7
    except ImportError:
        pass

START = b"\x0b"
END = b"\x1c\x0d"


def ack_with_hl7(block: bytes) -> bytes:
    return str(hl7.parse(block.decode("utf-8")).create_ack("AA")).encode("utf-8")


def ack_from_msh(block: bytes) -> bytes:
    msh = block.split(b"\r", 1)[0].decode("utf-8", "replace")
    fields = msh.split(msh[3]) if len(msh) > 3 else ["MSH"]
    field = lambda n: fields[n - 1] if n - 1 < len(fields) else ""
    now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    text = (
        f"MSH|^~\\&|{field(5)}|{field(6)}|{field(3)}|{field(4)}|{now}||ACK|ACK{now}|P|{field(12)}\r"
        f"MSA|AA|{field(10)}"
    )
    return text.encode("utf-8")


make_ack = ack_with_hl7 if hl7 else ack_from_msh


class Answer(socketserver.BaseRequestHandler):
    def handle(self):
        connection = self.request
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return
            pending += chunk
            while True:
                end = pending.find(END)
                if end < 0:
                    break
                block, pending = pending[:end], pending[end + len(END) :]
                start = block.find(START)
                if start >= 0:
                    connection.sendall(START + make_ack(block[start + 1 :]) + END)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


with Server(("127.0.0.1", int(sys.argv[1])), Answer) as server:
    port = server.server_address[1]
    print(f"listening {port} {'python-hl7' if hl7 else 'msh-only'}", flush=True)
    server.serve_forever()
