"""What a kernel writes straight to file descriptors 1 and 2 (`os.system('echo $TOKEN')`, a subprocess
inheriting them, a C extension's printf). Left alone, fds 1 and 2 are the container's stdout, written
to a log file on the host's disk. The agent points both at pipes inside the
sandbox and forwards what comes out as the current cell's stream output, where the web app masks
secret values as it does for every output (split and encoded forms included) before storing or
showing it. The container's stdout keeps only the agent's own diagnostics (its logger, its crash:
`diagnostics`), which the gateway masks before writing them to container.log.
"""

import codecs
import os
import select
import threading


class Diagnostics:
    """The agent's own channel to the container's stdout (the gateway masks the kernel's env values in
    it before it reaches container.log: sandbox/container-output.ts)."""

    encoding = "utf-8"

    def __init__(self, fd):
        self.fd = fd

    def write(self, text):
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self.fd, data) :]
        return len(text)

    def flush(self):
        pass


# Until capture() runs, fd 2 still is the container log.
diagnostics = Diagnostics(2)


class FdCapture:
    """Reads the pipes behind fds 1 and 2 and writes what arrives to the agent's relay streams."""

    def __init__(self, streams):
        self._lock = threading.Lock()
        self._pipes = {}
        for fd, stream in streams.items():
            read, write = os.pipe()
            os.set_blocking(read, False)
            os.dup2(write, fd)
            os.close(write)
            self._pipes[read] = (stream, codecs.getincrementaldecoder("utf-8")("replace"))

    def drain(self):
        """Moves what the pipes hold into the streams now: called on every stream flush, so what a cell's
        subprocess wrote is in that cell's output before its reply goes out."""
        with self._lock:
            for read in list(self._pipes):
                self._read(read)

    def _read(self, read):
        stream, decoder = self._pipes[read]
        while True:
            try:
                chunk = os.read(read, 1 << 16)
            except BlockingIOError:
                return
            if not chunk:
                # Every write end is closed (user code closed fd 1 or 2 itself): stop watching it.
                del self._pipes[read]
                os.close(read)
                return
            text = decoder.decode(chunk)
            if text:
                stream.write(text)

    def forward(self):
        """Background output (a subprocess still printing after its cell ended) goes to the latest cell."""
        while self._pipes:
            ready, _, _ = select.select(list(self._pipes), [], [])
            with self._lock:
                for read in ready:
                    if read in self._pipes:
                        self._read(read)


def capture(stdout, stderr, start_thread):
    """Points fds 1 and 2 at the relay streams; the container log stays reachable only through
    `diagnostics` (a close-on-exec copy, so subprocesses never inherit it)."""
    diagnostics.fd = os.dup(2)
    fds = FdCapture({1: stdout, 2: stderr})
    stdout.drain = stderr.drain = fds.drain
    start_thread(fds.forward, "kiln-fd-output")
    return fds
