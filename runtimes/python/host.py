"""Airlock's in-container host for Python plugins (the container's command, under docker's init).

Protocol: JSON lines. The first line on stdin is {"type":"hello","token":"<random>"}, read before the plugin
loads; every error the host raises itself (origin: airlock) carries the token, so the engine can tell it from
a plugin writing a look-alike line to the protocol stream. It is never in the environment (/proc/self/environ
would show it) and is kept only in a closure; Python code in the same process can still dig it out (gc,
frames), so it stops casual forgery, not a determined plugin: the engine trusts no host error for anything
beyond its label (memory-limit comes only from the daemon's OOMKilled).
Requests follow on stdin: {"id":1,"tool":"forecast","input":{...}}. Answers go to a
private duplicate of the original stdout; fds 1 and 2 are re-pointed at pipes this program drains, so what
the plugin (or a child process, or C code) prints can never corrupt the protocol stream and is returned
with the call it belongs to:
  {"type":"ready","runtime":"python","version":"3.11.2"}                         once, after the entry loaded
  {"type":"fatal","error":{"code":"plugin-error","message":"..."}}              the entry could not be loaded
  {"type":"result","id":1,"ok":true,"output":"<JSON text>","stdout":"","stderr":"","truncated":false}
  {"type":"result","id":1,"ok":false,"error":{"code":"...","message":"..."},"stdout":"",...}
The message types are declared in src/protocol.ts. One call at a time per container.
"""
import asyncio
import errno
import faulthandler
import importlib.util
import inspect
import json
import os
import select
import sys
import threading
import traceback

OUTPUT_BYTES = int(os.environ.pop("AIRLOCK_OUTPUT_BYTES", "1048576"))
LOG_BYTES = int(os.environ.pop("AIRLOCK_LOG_BYTES", "65536"))

# ---- the protocol stream: a private copy of fd 1, before fd 1 is taken over ----
_proto = os.fdopen(os.dup(1), "wb", buffering=0)
_requests = os.fdopen(os.dup(0), "rb")
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)  # the plugin gets no stdin: requests are the host's
# A crash in C code (segfault, abort) dumps the Python stacks to the container's own stderr, whose last
# lines the engine reports with the crash.
_crash_log = os.fdopen(os.dup(2), "w")
faulthandler.enable(file=_crash_log)


def send(msg):
    # A lone surrogate (a plugin may return one, e.g. echoing the JSON escape "\ud800") has no UTF-8 form:
    # written as the JSON escape it came from, the line stays valid UTF-8 and reads back as the same string.
    data = (json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8", "backslashreplace")
    view = memoryview(data)
    while view:
        n = _proto.write(view)
        view = view[n:]


# ---- fd-level capture of stdout/stderr ----
class Capture:
    """Drains pipes behind fds 1 and 2 into a bounded buffer. Reads happen only under the lock, so
    take() (flush, then drain to EAGAIN under the lock) returns everything written before it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.parts = {"stdout": [], "stderr": []}
        self.bytes = 0
        self.truncated = False
        self.fds = {}
        for fd, name in ((1, "stdout"), (2, "stderr")):
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.dup2(w, fd)
            os.close(w)
            self.fds[r] = name
        sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        threading.Thread(target=self._loop, daemon=True).start()

    def _drain(self):
        for r, name in self.fds.items():
            while True:
                try:
                    chunk = os.read(r, 65536)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                room = LOG_BYTES - self.bytes
                if len(chunk) > room:
                    self.truncated = True
                    chunk = chunk[: max(room, 0)]
                if chunk:
                    self.parts[name].append(chunk)
                    self.bytes += len(chunk)

    def _loop(self):
        fds = list(self.fds)
        while True:
            select.select(fds, [], [])
            with self.lock:
                self._drain()

    def take(self):
        for f in (sys.stdout, sys.stderr):
            try:
                f.flush()
            except Exception:
                pass
        with self.lock:
            self._drain()
            out = {
                "stdout": b"".join(self.parts["stdout"]).decode("utf-8", "replace"),
                "stderr": b"".join(self.parts["stderr"]).decode("utf-8", "replace"),
                "truncated": self.truncated,
            }
            self.parts = {"stdout": [], "stderr": []}
            self.bytes = 0
            self.truncated = False
            return out


capture = Capture()


def _host_errors():
    """The engine's first line: the token of host errors, held only by the returned function."""
    try:
        hello = json.loads(_requests.readline())
        token = hello["token"] if hello.get("type") == "hello" and isinstance(hello.get("token"), str) else None
    except (ValueError, AttributeError):
        token = None
    if token is None:
        send({"type": "fatal", "error": {"code": "internal", "message": "the engine sent no hello line"}})
        os._exit(1)
    return lambda code, message: {"code": code, "origin": "airlock", "token": token, "message": message}


host_error = _host_errors()


def error_of(e):
    if isinstance(e, MemoryError):
        # The plugin can raise MemoryError itself, so this is its error, not a memory-limit; the engine
        # replaces the container after it (the process is in doubt).
        return host_error("MemoryError", f"MemoryError: {e}")
    code = getattr(e, "code", None)
    # The type when the error has no code of its own (an unexpected exception), then the frames in the plugin's
    # own files (innermost first), as src/engines/plugin-error.ts reads them.
    head = str(e)
    if not isinstance(code, str) or not code:
        # OSError carries its errno; its symbolic name (EACCES, EROFS, ...) is the most useful code.
        code = errno.errorcode.get(e.errno, "plugin-error") if isinstance(e, OSError) and e.errno else "plugin-error"
        head = f"{type(e).__name__}: {e}"
    return {"code": code, "message": "\n".join([head] + plugin_frames(e))}


def plugin_frames(e):
    root = os.getcwd() + os.sep
    out = []
    for f in reversed(traceback.extract_tb(e.__traceback__)):
        if f.filename.startswith(root):
            out.append(f"    at {f.name} ({f.filename[len(root):]}:{f.lineno})")
            if len(out) == 10:
                break
    return out


def load(entry):
    sys.path.insert(0, os.path.dirname(entry))
    spec = importlib.util.spec_from_file_location("__airlock_plugin__", entry)
    module = importlib.util.module_from_spec(spec)
    sys.modules["__airlock_plugin__"] = module
    spec.loader.exec_module(module)
    return module


def main():
    entry = sys.argv[1]
    try:
        module = load(entry)
    except BaseException as e:  # SystemExit and KeyboardInterrupt too: the entry must load
        send({"type": "fatal", "error": {"code": "plugin-error", "message": f"loading {entry}: " + "".join(traceback.format_exception_only(type(e), e)).strip()}, **capture.take()})
        os._exit(1)
    send({"type": "ready", "runtime": "python", "version": sys.version.split()[0]})
    loop = asyncio.new_event_loop()
    for line in _requests:
        try:
            req = json.loads(line)
        except ValueError:
            req = None
        if not isinstance(req, dict):
            send({"type": "fatal", "error": {"code": "internal", "message": "unparseable request line"}})
            continue
        tool = req.get("tool")
        fn = getattr(module, tool, None) if isinstance(tool, str) and not tool.startswith("_") else None
        if not callable(fn):
            res = {"ok": False, "error": host_error("not-found", f"the entry has no function named {json.dumps(tool)}")}
        else:
            try:
                value = fn(req.get("input"))
                if inspect.isawaitable(value):
                    value = loop.run_until_complete(value)
                output = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                size = len(output.encode("utf-8", "surrogatepass"))
                if size > OUTPUT_BYTES:
                    res = {"ok": False, "error": host_error("output-limit", f"the result is {size} bytes of JSON; the limit is {OUTPUT_BYTES}")}
                else:
                    res = {"ok": True, "output": output}
            except Exception as e:
                res = {"ok": False, "error": error_of(e)}
            except BaseException as e:
                # sys.exit() or similar mid-call: answer the call with its logs, then exit as asked.
                status = e.code if isinstance(e, SystemExit) and isinstance(e.code, int) else 1
                send({"type": "result", "id": req.get("id"), "ok": False, "error": host_error("crash", f"the plugin exited ({type(e).__name__}: {e}) during the call"), **capture.take()})
                os._exit(status)
        send({"type": "result", "id": req.get("id"), **res, **capture.take()})
    os._exit(0)


main()
