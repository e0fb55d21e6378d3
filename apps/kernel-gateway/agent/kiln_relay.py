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
            self._drop_locked()

    def _drop_locked(self):
        self.connected.clear()
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None

    def send_parts(self, parts):
        self.send_frames([parts])

    def send_frames(self, frames):
        """Sends frames (lists of parts) in one gathered write, in order and never interleaved with
        another thread's frames."""
        buffers = []
        for parts in frames:
            parts = [_as_bytes(p) for p in parts]
            lengths = [len(p) for p in parts]
            n = len(parts)
            buffers.append(struct.pack("<II%dI" % n, 4 + 4 * n + sum(lengths), n, *lengths))
            buffers.extend(parts)
        with self.write_lock:
            while True:
                # While disconnected (checkpointing, or the gateway restarting) output waits for the next
                # socket rather than being lost.
                while self.sock is None:
                    self.write_lock.release()
                    self.connected.wait()
                    self.write_lock.acquire()
                try:
                    self._send_all(self.sock, buffers)
                    return
                except OSError:
                    # The gateway went away (crashed or restarting): a new one re-adopts this sandbox and
                    # listens at the same path; the reader reconnects and these frames go to it whole.
                    # (A frame cut off mid-way is dropped with its connection; the gateway never sees half.)
                    self._drop_locked()

    @staticmethod
    def _send_all(sock, buffers):
        # One gathered write for all: joining output parts into one bytes object first cost two more
        # copies, and fresh pages are page faults (traps) under gVisor.
        views = [memoryview(b) for b in buffers if len(b)]
        first = 0
        while first < len(views):
            sent = sock.sendmsg(views[first : first + 1024])
            while first < len(views) and sent >= len(views[first]):
                sent -= len(views[first])
                first += 1
            if sent:
                views[first] = views[first][sent:]

    def recv_frames(self):
        """Yields part lists until the socket closes."""
        sock = self.sock
        buf = bytearray()
        while True:
            try:
                chunk = sock.recv(1 << 20) if sock is not None else b""
            except OSError:
                # Reset by a gateway that died, or closed by a writer that found it dead: reconnect.
                return
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
        self.link = link
        self.channel = channel.encode()

    def send_multipart(self, msg_parts, *args, **kwargs):
        parts = [_as_bytes(p) for p in msg_parts]
        idx = parts.index(DELIM)
        # After the delimiter: signature (empty, no key), header, parent, metadata, content, buffers.
        self.link.send_parts([self.channel] + parts[idx + 2 :])

    def flush(self, *args, **kwargs):
        pass


class RelayStream:
    """sys.stdout/sys.stderr for user code: buffers writes without syscalls and sends them as `stream`
    messages when flushed, when FLUSH_CHARS pile up, or 50 ms after the first unsent write (background
    flusher). A flush goes out as messages of at most MESSAGE_CHARS characters, all in one write.

    Sizes measured under gVisor (20 MiB of 1 KiB lines): a flush every 4 MiB joined and encoded
    megabytes at a time into fresh memory, each of its pages a fault (a trap to the sentry); pieces of
    256 KiB reuse the same few malloc blocks, and 64 Ki-character messages keep the gateway's and the
    client's per-message work small and let the notebook show output while more is written.
    """

    FLUSH_CHARS = 256 << 10
    MESSAGE_CHARS = 64 << 10

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
        # Set by kiln_output.capture: pulls in what subprocesses wrote to fds 1 and 2 before a flush.
        self.drain = None

    def set_parent(self, parent):
        self.flush()
        self.parent_header = parent

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        with self._lock:
            wake = not self._parts
            self._parts.append(text)
            self._size += len(text)
            if self._size >= self.FLUSH_CHARS:
                self._send()
        if wake:
            _output_waiting.set()
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def _send(self):
        if not self._parts:
            return
        text = "".join(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts = []
        self._size = 0
        session = self.session
        parent = session.pack(extract_header(self.parent_header))
        step = self.MESSAGE_CHARS
        # A flush is one write; one huge write (a 100 MB string) goes out a batch at a time, never
        # encoded whole.
        batch_chars = 4 * self.FLUSH_CHARS
        for batch in range(0, len(text), batch_chars):
            end = min(len(text), batch + batch_chars)
            frames = [
                [
                    b"stream",
                    session.pack(session.msg_header("stream")),
                    parent,
                    self._name,
                    # Lone surrogates cannot be UTF-8; they show as "?" rather than failing the write.
                    text[start : min(end, start + step)].encode("utf-8", "replace"),
                ]
                for start in range(batch, end, step)
            ]
            self.iopub.link.send_frames(frames)

    def flush(self):
        # Outside the lock: draining writes to both streams, and another thread may flush the other one.
        if self.drain is not None:
            self.drain()
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


# Set when a stream's buffer goes from empty to not: the flusher sleeps on it, so an idle kernel's
# agent makes no timed wake-ups (each one costs the sandbox a trap; twenty a second were 2-4% of a
# core per idle kernel).
_output_waiting = threading.Event()


def start_flusher(streams):
    def run():
        while True:
            _output_waiting.wait()
            time.sleep(0.05)
            _output_waiting.clear()
            for stream in streams:
                if stream._parts:
                    try:
                        stream.flush()
                    except Exception:
                        pass

    start_small_thread(run, "kiln-flusher")


def start_small_thread(target, name):
    """Starts one of the agent's own daemon threads on a 256 KiB stack (they never recurse deeply):
    under gVisor a default 8 MiB stack ends up ~1.5 MiB resident. User threads keep the default."""
    threading.stack_size(256 << 10)
    try:
        threading.Thread(target=target, name=name, daemon=True).start()
    finally:
        threading.stack_size(0)
