"""Kiln kernel agent: the sandbox's main process (under tini, which reaps orphans); hosts a real ipykernel
kernel in-process.

Jupyter messages travel over one host unix socket (bind-mounted at /opt/kiln/channel) as length-prefixed
frames (see kiln_relay.py). Channel "kiln" carries agent commands: hello (sent on every connect), init
(per-kernel env after a snapshot restore), interrupt, checkpoint. Code runs on the main thread, so a
SIGINT raises KeyboardInterrupt in user code. Before a checkpoint the agent drops its socket (host fds
cannot be saved) and reconnects in a loop; a restored sandbox therefore finds the new socket at the
same path. Replaces ipykernel's zmq sockets and IOPub thread: under gVisor's ptrace platform every
syscall and thread hop is expensive, and this path measured ~5-9 ms per `1+1` against 56 ms for the
stock ZeroMQ kernel.
"""

import contextvars
import gc
import json
import logging
import os
import signal
import sys
import threading
import uuid

import kiln_output
from kiln_relay import DELIM, Link, RelaySocket, RelayStream, start_flusher, start_small_thread

CHANNEL_PATH = os.environ.get("KILN_CHANNEL", "/opt/kiln/channel/agent.sock")

# Set while a quiet request runs: an execute_request whose metadata has `kiln_quiet` (an endpoint call).
# Its asker waits for the reply alone, and nobody else follows it: no busy/idle status and no
# execute_input echo of its code are sent, two to three messages fewer per call through the gateway.
QUIET = contextvars.ContextVar("kiln_quiet", default=False)


def release_free_memory():
    """Hands malloc's free pages back before a checkpoint: pages the process does not hold are not
    written to the image, restored, or charged to the restored kernel (a few MiB per kernel)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def forget_warmup_sources():
    """The warm-up error above leaves IPython's own source files read, tokenized and parsed in
    linecache and stack_data's caches (~4 MiB per kernel); a user's error reads the files it needs."""
    import linecache

    linecache.clearcache()
    for module_name in ("executing", "stack_data.core"):
        source = getattr(sys.modules.get(module_name), "Source", None)
        for name, value in list(vars(source).items()) if source else []:
            if "cache" in name and isinstance(value, dict):
                value.clear()


def main():
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    link = Link(CHANNEL_PATH)
    link.connect()

    import asyncio

    import zmq

    # ipykernel loads debugpy (~12 MB, 170 modules) for JupyterLab's visual debugger, which needs a
    # control-channel thread and sockets this agent does not run (the kernelspec does not offer it):
    # keep it out of the snapshot, ~10% smaller and ~150 ms quicker to restore. User code can still
    # import debugpy afterwards.
    sys.modules["debugpy"] = None
    from ipykernel.ipkernel import IPythonKernel

    del sys.modules["debugpy"]
    from jupyter_client.session import Session
    from traitlets import Any

    pending_input = {"event": threading.Event(), "reply": None}
    # The shell request running now (its msg_id) and the one the last interrupt was for (None: whatever
    # runs). An endpoint replica queues several calls: a timed-out call's interrupt that arrives after
    # it ended must not land on the next call.
    requests = {"current": None, "target": None}

    def on_sigint(signum, frame):
        # Runs on the main thread between bytecodes, so `current` is the request actually running.
        target = requests["target"]
        if target is not None and target != requests["current"]:
            return
        raise KeyboardInterrupt

    class AgentKernel(IPythonKernel):
        # The relay sockets stand in for zmq streams; ipykernel only calls send_multipart/flush on them.
        shell_stream = Any()
        control_stream = Any()
        iopub_socket = Any()
        iopub_thread = Any()
        stdin_socket = Any()

        def start(self):
            self.shell.exit_now = False

        def pre_handler_hook(self):
            # ipykernel installs default_int_handler here; this one honours a targeted interrupt.
            self.saved_sigint_handler = signal.signal(signal.SIGINT, on_sigint)

        def _publish_status(self, status, channel, parent=None):
            if not QUIET.get():
                super()._publish_status(status, channel, parent)

        def _publish_execute_input(self, code, parent, execution_count):
            if not QUIET.get():
                super()._publish_execute_input(code, parent, execution_count)

        async def _flush_control_queue(self):
            pass

        def _abort_queues(self):
            pass

        def _input_request(self, prompt, ident, parent, password=False):
            sys.stderr.flush()
            sys.stdout.flush()
            pending_input["event"].clear()
            pending_input["reply"] = None
            content = {"prompt": prompt, "password": password}
            self.session.send(self.stdin_socket, "input_request", content, parent, ident=ident)
            try:
                # A timed wait keeps the main thread interruptible by SIGINT.
                while not pending_input["event"].wait(0.05):
                    pass
            except KeyboardInterrupt:
                raise KeyboardInterrupt("Interrupted by user") from None
            value = (pending_input["reply"] or {}).get("value", "")
            if value == "\x04":
                raise EOFError
            return value

    session = Session(key=b"", session=str(uuid.uuid4()), username="kernel")
    # No IOPubThread: its tornado loop, zmq context and their three threads only relayed what the
    # relay sockets already send synchronously (about 4 MiB of stacks and buffers per idle kernel).
    iopub = RelaySocket(link, "iopub")
    log = logging.getLogger("kiln-agent")
    # The agent's logger writes to the container's stdout (masked by the gateway), never to a cell.
    log.addHandler(logging.StreamHandler(kiln_output.diagnostics))
    log.setLevel(logging.WARNING)
    from traitlets.config import Config

    config = Config()
    # The SQLite history file costs ~3 ms a cell in lock waits with its saving thread; history within the
    # session still works in memory.
    config.HistoryManager.hist_file = ":memory:"
    # instance() registers the singleton that ipykernel.comm and ipywidgets look the kernel up by.
    kernel = AgentKernel.instance(
        config=config,
        log=log,
        session=session,
        shell_stream=RelaySocket(link, "shell"),
        control_stream=RelaySocket(link, "control"),
        iopub_thread=None,
        iopub_socket=iopub,
        stdin_socket=RelaySocket(link, "stdin"),
    )
    kernel.shell.kernel = kernel
    # ipykernel sleeps 0.5 ms after every execute to paper over lost zmq flushes; our writes are synchronous.
    kernel._execute_sleep = 0
    sys.stdout = RelayStream(session, iopub, "stdout")
    sys.stderr = RelayStream(session, iopub, "stderr")
    # From here on, what anything in the sandbox writes to fds 1 and 2 reaches the notebook (masked by
    # the web app), never the container log on the host's disk.
    kiln_output.capture(sys.stdout, sys.stderr, start_small_thread)
    start_flusher([sys.stdout, sys.stderr])
    kernel.shell.display_pub.session = session
    kernel.shell.display_pub.pub_socket = iopub
    for module in os.environ.get("KILN_PRELOAD", "").split(","):
        if module:
            __import__(module)
    # The first error a kernel shows imports and caches a lot (source highlighting, stack inspection:
    # ~220 ms under gVisor); pay that before the snapshot, through the same path a cell's error takes,
    # so the first interrupt or error a user sees is quick. Not stored in history; nobody listens yet.
    kernel.shell.run_cell("raise KeyboardInterrupt", store_history=False, silent=True)
    sys.last_type = sys.last_value = sys.last_traceback = None
    forget_warmup_sources()
    if "matplotlib" in os.environ.get("KILN_PRELOAD", ""):
        import matplotlib_inline.backend_inline  # noqa: F401  registers the inline hooks now, not in the first cell
    # The ~170k objects the libraries above created live as long as the kernel: move them out of the
    # collector's sight, or every full collection walks them all (100-130 ms under gVisor against
    # 0.3 ms frozen, landing on whatever the user's code is doing at the time).
    gc.collect()
    gc.freeze()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    kernel.io_loop = loop
    work = asyncio.Queue()
    control_msg = lambda t, content, parent: session.send(RelaySocket(link, "control"), t, content, parent)  # noqa: E731

    def to_zmq(parts):
        return [zmq.Message(DELIM), zmq.Message(b"")] + [zmq.Message(p) for p in parts]

    def on_frame(parts):
        channel = parts[0].decode()
        if channel == "kiln":
            command = json.loads(parts[1])
            if command.get("op") == "checkpoint":
                release_free_memory()
                # Reply, then hang up: the gateway checkpoints once the socket closes.
                link.send_parts([b"kiln", json.dumps({"op": "checkpoint-ready"}).encode()])
                return "drop"
            if command.get("op") == "interrupt":
                # With an `execution`, only that request is interrupted (see on_sigint).
                requests["target"] = command.get("execution")
                os.kill(os.getpid(), signal.SIGINT)
            if command.get("op") == "init":
                # A kernel restored from the shared snapshot gets its own env and fresh random state.
                os.environ.update(command.get("env") or {})
                import random

                random.seed()
                if "numpy" in sys.modules:
                    sys.modules["numpy"].random.seed()
                link.send_parts([b"kiln", json.dumps({"op": "init-done"}).encode()])
            return None
        header = json.loads(parts[1])
        msg_type = header.get("msg_type")
        if channel == "stdin" and msg_type == "input_reply":
            pending_input["reply"] = json.loads(parts[4])
            pending_input["event"].set()
            return None
        if channel == "control" and msg_type == "interrupt_request":
            requests["target"] = None
            os.kill(os.getpid(), signal.SIGINT)
            parent = {"header": header, "parent_header": {}, "metadata": {}, "content": {}}
            control_msg("interrupt_reply", {"status": "ok"}, parent)
            return None
        loop.call_soon_threadsafe(work.put_nowait, (channel, parts[1:]))
        return None

    def reader():
        while True:
            dropped = False
            for parts in link.recv_frames():
                if on_frame(parts) == "drop":
                    link.drop()
                    dropped = True
                    break
            if not dropped:
                link.drop()
            link.connect()
            # `busy`: a gateway that re-adopts this sandbox after a restart learns whether a cell still runs.
            hello = {"op": "hello", "pid": os.getpid(), "restored": True, "busy": running["busy"]}
            link.send_parts([b"kiln", json.dumps(hello).encode()])

    running = {"busy": False}

    async def serve():
        while True:
            channel, parts = await work.get()
            running["busy"] = True
            try:
                await handle(channel, parts)
            finally:
                running["busy"] = not work.empty()

    async def handle(channel, parts):
        header = json.loads(parts[0])
        if header.get("msg_type") == "shutdown_request":
            content = json.loads(parts[3])
            parent = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
            session.send(RelaySocket(link, channel), "shutdown_reply", {"status": "ok", "restart": bool(content.get("restart"))}, parent)
            session.send(iopub, "shutdown_reply", {"status": "ok", "restart": bool(content.get("restart"))}, parent)
            sys.stdout.flush()
            os._exit(0)
        if channel == "control":
            kernel.shell_stream, saved = RelaySocket(link, "control"), kernel.shell_stream
            try:
                await kernel.dispatch_shell(to_zmq(parts))
            finally:
                kernel.shell_stream = saved
        else:
            quiet = header.get("msg_type") == "execute_request" and bool(json.loads(parts[2] or b"{}").get("kiln_quiet"))
            token = QUIET.set(quiet)
            requests["current"] = header.get("msg_id")
            try:
                await kernel.dispatch_shell(to_zmq(parts))
            except KeyboardInterrupt:
                pass
            finally:
                requests["current"] = None
                QUIET.reset(token)

    # SIGINT only means something while a request runs: ipykernel's pre_handler_hook installs the
    # KeyboardInterrupt handler for the handler's duration and puts this back afterwards.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    start_small_thread(reader, "kiln-reader")
    kernel._publish_status("starting", "shell")
    link.send_parts([b"kiln", json.dumps({"op": "hello", "pid": os.getpid(), "restored": False}).encode()])
    while True:
        try:
            loop.run_until_complete(serve())
        except KeyboardInterrupt:
            # An interrupt that lands between cells must not kill the kernel.
            continue


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        # sys.stderr may be the kernel's relay by now; the container log must get the agent's own crash.
        import traceback

        kiln_output.diagnostics.write(traceback.format_exc())
        os._exit(70)
