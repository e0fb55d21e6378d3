"""The agent's side of the wire: the gateway socket (Link), zmq-socket stand-ins that forward what
ipykernel's Session serializes (RelaySocket), and sys.stdout/sys.stderr replacements (RelayStream).

Frame format: u32 LE body length, then body = u32 LE part count n, n u32 LE part lengths, parts
(channel, header, parent_header, metadata, content, buffers...); channel "kiln" carries agent commands.
Channel "stream" carries stdout/stderr as (header, parent_header, name, UTF-8 text): the gateway builds
the JSON content itself, because escaping a megabyte of text into JSON here costs ~10 ms under gVisor
against ~1 ms to encode it.
"""

import io
import socket
import struct
import threading
import time

from jupyter_client.session import extract_header

DELIM = b"<IDS|MSG>"


def _as_bytes(part):
    if isinstance(part, bytes):
        return part
    if hasattr(part, "bytes"):
        return part.bytes
    return bytes(part)


class Link:
    """The socket to the gateway; reconnects after a checkpoint/restore."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.write_lock = threading.Lock()
        self.connected = threading.Event()
        self.generation = 0

    def connect(self):
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(self.path)
                break
            except OSError:
                sock.close()
                time.sleep(0.005)
        with self.write_lock:
            self.sock = sock
            self.generation += 1
        self.connected.set()

    def drop(self):
        with self.write_lock:
            self.connected.clear()
            if self.sock is not None:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.sock.close()
                self.sock = None

    def send_parts(self, parts):
        parts = [_as_bytes(p) for p in parts]
        head = struct.pack("<I", len(parts)) + b"".join(struct.pack("<I", len(p)) for p in parts)
        body_len = len(head) + sum(len(p) for p in parts)
        with self.write_lock:
            # While disconnected (checkpointing) output waits for the next socket rather than being lost.
            while self.sock is None:
                self.write_lock.release()
                self.connected.wait()
                self.write_lock.acquire()
            self.sock.sendall(struct.pack("<I", body_len) + head + b"".join(parts))

    def recv_frames(self):
        """Yields part lists until the socket closes."""
        sock = self.sock
        buf = bytearray()
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4:
                (body_len,) = struct.unpack_from("<I", buf, 0)
                if len(buf) < 4 + body_len:
                    break
                body = bytes(buf[4 : 4 + body_len])
                del buf[: 4 + body_len]
                (n,) = struct.unpack_from("<I", body, 0)
                lengths = struct.unpack_from("<%dI" % n, body, 4)
                offset = 4 + 4 * n
                parts = []
                for length in lengths:
                    parts.append(body[offset : offset + length])
                    offset += length
                yield parts


class RelaySocket:
    """Stands in for a zmq socket: Session.send() hands it serialized parts, which go to the gateway."""

    def __init__(self, link, channel):
        import zmq

        self.link = link
        self.channel = channel.encode()
        # IOPubThread builds its wake-up pipe on the socket's context.
        self.context = zmq.Context.instance()

    def send_multipart(self, msg_parts, *args, **kwargs):
        parts = [_as_bytes(p) for p in msg_parts]
        idx = parts.index(DELIM)
        # After the delimiter: signature (empty, no key), header, parent, metadata, content, buffers.
        self.link.send_parts([self.channel] + parts[idx + 2 :])

    def flush(self, *args, **kwargs):
        pass


class RelayStream:
    """sys.stdout/sys.stderr for user code: buffers writes without syscalls and sends them as `stream`
    messages when flushed, when 1 MiB piles up, or every 50 ms from a background flusher."""

    FLUSH_BYTES = 1 << 20

    def __init__(self, session, iopub, name):
        self.session = session
        self.iopub = iopub
        self.name = name
        self._name = name.encode()
        self.parent_header = {}
        self.encoding = "utf-8"
        self.errors = "strict"
        self._lock = threading.RLock()
        self._parts = []
        self._size = 0

    def set_parent(self, parent):
        self.flush()
        self.parent_header = parent

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        with self._lock:
            self._parts.append(text)
            self._size += len(text)
            if self._size >= self.FLUSH_BYTES:
                self._send()
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def _send(self):
        if not self._parts:
            return
        text = "".join(self._parts)
        self._parts = []
        self._size = 0
        session = self.session
        parent = session.pack(extract_header(self.parent_header))
        # One huge write still goes out in bounded messages (the gateway skips frames over 128 MiB).
        for start in range(0, len(text), self.FLUSH_BYTES):
            self.iopub.link.send_parts(
                [
                    b"stream",
                    session.pack(session.msg_header("stream")),
                    parent,
                    self._name,
                    # Lone surrogates cannot be UTF-8; they show as "?" rather than failing the write.
                    text[start : start + self.FLUSH_BYTES].encode("utf-8", "replace"),
                ]
            )

    def flush(self):
        with self._lock:
            self._send()

    def isatty(self):
        return False

    def fileno(self):
        raise io.UnsupportedOperation("fileno")

    def readable(self):
        return False

    def writable(self):
        return True

    @property
    def closed(self):
        return False


def start_flusher(streams):
    def run():
        while True:
            time.sleep(0.05)
            for stream in streams:
                if stream._parts:
                    try:
                        stream.flush()
                    except Exception:
                        pass

    threading.Thread(target=run, name="kiln-flusher", daemon=True).start()
