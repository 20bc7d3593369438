"""Watch over the processes of a distributed job: start, stream, stop, and detect stalls.

Each process runs in its own process group (and on Linux dies with the
launcher); its output is streamed line by line with its label; when one fails,
or the job stalls or runs past its time, every process is stopped (SIGTERM,
then SIGKILL) and the reason is reported. :func:`dlbook.launch.launch` plans
the processes (:mod:`dlbook._launch_plan`) and hands them to :func:`_run`.
"""
import collections
import os
import signal
import subprocess
import sys
import threading
import time

__all__ = []  # private module: its public names are dlbook.launch's

_TAIL_LINES = 15
_EXIT_TIMEOUT = 124
#: Seconds without CPU use by any process of a job after which launch() stops it as stuck.
DEFAULT_STALL_TIMEOUT = 60.0
#: The line a launched MXNet worker prints when its script has ended and it starts to leave
#: the distributed kvstore (which waits for every other process); the launcher notes the
#: time and does not show the line.
SCRIPT_ENDED_MARKER = "[dlbook] script ended; leaving the distributed kvstore"


def _pdeathsig():
    """In the child: receive SIGKILL when the launcher dies (Linux)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


class _Process:
    """One launched process: its label, Popen, output tail and reader thread."""

    def __init__(self, role, index, host, argv, env):
        self.role, self.index, self.host = role, index, host
        self.label = role if role == "scheduler" else f"{role} {index}"
        self.argv, self.env = argv, env
        self.popen = None
        self.tail = collections.deque(maxlen=_TAIL_LINES)
        self.thread = None
        self.ended_at = None
        self.script_ended_at = None  # when a worker said SCRIPT_ENDED_MARKER
        self.stopped = False

    @property
    def code(self):
        return None if self.popen is None else self.popen.returncode

    def describe_exit(self):
        code = self.code
        if code is None:
            return "is still running"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown signal"
            return f"was killed by signal {-code} ({name})"
        if code == 255 and self.argv and self.argv[0] == "ssh":
            return "exited with status 255 (ssh could not reach the host or run the command)"
        return f"exited with status {code}"


class _Printer:
    """Writes whole lines to the output streams from several threads."""

    def __init__(self, out, err):
        self.out, self.err = out, err
        self.lock = threading.Lock()

    def line(self, text, error=False):
        stream = self.err if error else self.out
        with self.lock:
            stream.write(text + "\n")
            stream.flush()

    def say(self, text, error=False):
        for part in text.splitlines() or [""]:
            self.line(f"[launch] {part}", error=error)


def _read_output(proc, printer):
    for raw in iter(proc.popen.stdout.readline, b""):
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if text == SCRIPT_ENDED_MARKER:
            proc.script_ended_at = time.monotonic()
            continue
        proc.tail.append(text)
        printer.line(f"[{proc.label}] {text}")
    proc.popen.stdout.close()


def _exit_status(code):
    return 128 - code if code < 0 else code


def _signal_group(proc, sig):
    if proc.popen is None or proc.stopped:
        return
    try:
        os.killpg(proc.popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_all(procs, kill_timeout):
    """SIGTERM every process group, SIGKILL what is left after ``kill_timeout`` s; reap all."""
    for proc in procs:
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + kill_timeout
    while time.monotonic() < deadline and any(p.popen.poll() is None for p in procs if p.popen):
        time.sleep(0.05)
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)
    for proc in procs:
        if proc.popen is not None:
            try:
                proc.popen.wait(timeout=kill_timeout)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
                pass
            proc.stopped = True  # never signal this (possibly reused) group id again


class _Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _start(procs, printer):
    """Start every process; on failure stop those started and return an exit status."""
    # Die with the launcher (Linux). Only safe while no other thread runs.
    preexec = _pdeathsig if sys.platform.startswith("linux") \
        and threading.active_count() == 1 else None
    for proc in procs:
        try:
            proc.popen = subprocess.Popen(
                proc.argv, env=proc.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec)
        except OSError as err:
            printer.say(f"could not start {proc.label} ({' '.join(proc.argv)}): {err}",
                        error=True)
            return 127 if isinstance(err, FileNotFoundError) else 126
    for proc in procs:
        printer.say(f"started {proc.label} (pid {proc.popen.pid}) on {proc.host}")
        proc.thread = threading.Thread(target=_read_output, args=(proc, printer),
                                       name=f"dlbook-launch-{proc.label}", daemon=True)
        proc.thread.start()
    return None


def _early_leavers(procs, now):
    """Why-lines for workers that ended (or said their script ended) while others had not."""
    workers = [p for p in procs if p.role == "worker"]
    lines = []
    for w in workers:
        ended = w.script_ended_at if w.script_ended_at is not None else \
            (w.ended_at if w.code == 0 else None)
        if ended is None:
            continue
        busy = [o.label for o in workers if o is not w and o.script_ended_at is None
                and (o.ended_at is None or o.ended_at > ended)]
        if busy:
            how = "exited with status 0" if w.code == 0 else "ended its script"
            lines.append(
                f"{w.label} {how} {now - ended:.0f} s before this, while {', '.join(busy)} "
                f"{'was' if len(busy) == 1 else 'were'} still training: the workers of a job "
                "exchange gradients at every step, so one that leaves early makes the others "
                "wait or fail. Give every worker the same number of steps (the same epochs "
                "and batch size; fit gives each worker an equal shard).")
    return lines


def _report_failure(proc, procs, printer):
    others = [p.label for p in procs if p is not proc and p.popen and p.popen.poll() is None]
    printer.say(f"{proc.label} (pid {proc.popen.pid}, on {proc.host}) {proc.describe_exit()}; "
                f"stopping {', '.join(others) if others else 'nothing else'}.", error=True)
    if proc.thread is not None:
        proc.thread.join(timeout=2.0)  # collect its last lines
    if proc.tail:
        printer.say(f"last output of {proc.label}:\n" + "\n".join(f"    {t}" for t in proc.tail),
                    error=True)
    for line in _early_leavers(procs, proc.ended_at or time.monotonic()):
        printer.say(f"note: {line}", error=True)


def _session_cpu_ticks(sessions):
    """CPU clock ticks used so far by the processes of each session id in ``sessions``.

    Reads ``/proc/<pid>/stat`` (Linux): user and system time of each process,
    plus those of its children that it has reaped. Every launched process leads
    its own session (``start_new_session``), so whatever it starts (a shell's
    Python, MXNet's threads) is counted with it.
    """
    ticks = dict.fromkeys(sessions, 0)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rfind(b")") + 2:].split()  # from field 3 (state) on
        try:
            sid = int(fields[3])
            if sid in ticks:
                ticks[sid] += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        except (IndexError, ValueError):
            continue
    return ticks


def _report_stall(procs, printer, stall_timeout, now):
    running = [p for p in procs if p.popen.poll() is None]
    printer.say(f"no process of the job has used the CPU for {stall_timeout:g} s: every one "
                f"is waiting for another, so the job would never end; stopping "
                f"{', '.join(p.label for p in running)}.", error=True)
    for line in _early_leavers(procs, now):
        printer.say(f"cause: {line}", error=True)
    for p in running:
        if p.role == "worker" and p.tail:
            printer.say(f"last output of {p.label}:\n" + "\n".join(f"    {t}" for t in
                                                                    list(p.tail)[-5:]),
                        error=True)
    printer.say("(a job that really sleeps that long can raise stall_timeout, "
                "--stall-timeout on the command line; 0 turns the check off)", error=True)


def _run(procs, printer, timeout, kill_timeout, orphan_timeout=30.0, shutdown_timeout=10.0,
         stall_timeout=None):
    status = _start(procs, printer)
    if status is not None:
        return status
    start = time.monotonic()
    workers = [p for p in procs if p.role == "worker"]
    support = [p for p in procs if p.role != "worker"]
    support_ended = None
    watch_cpu = stall_timeout is not None and os.path.isdir("/proc") \
        and all(p.argv[0] != "ssh" for p in procs)
    last_ticks, last_busy, next_look = None, start, start
    while True:
        now = time.monotonic()
        if watch_cpu and now >= next_look:
            next_look = now + 1.0
            ticks = _session_cpu_ticks([p.popen.pid for p in procs if p.popen.poll() is None])
            if ticks != last_ticks:
                last_ticks, last_busy = ticks, now
            elif now - last_busy > stall_timeout:
                _report_stall(procs, printer, stall_timeout, now)
                _stop_all(procs, kill_timeout)
                return _EXIT_TIMEOUT
        for proc in procs:
            if proc.ended_at is None and proc.popen.poll() is not None:
                proc.ended_at = now
        failed = [p for p in procs if p.code not in (None, 0)]
        if failed:
            first = min(failed, key=lambda p: (p.ended_at, p.role != "worker", p.index))
            _report_failure(first, procs, printer)
            _stop_all(procs, kill_timeout)
            return _exit_status(first.code)
        if all(w.code == 0 for w in workers):
            deadline = now + shutdown_timeout
            while time.monotonic() < deadline and any(p.popen.poll() is None for p in support):
                time.sleep(0.05)
            left = [p.label for p in support if p.popen.poll() is None]
            if left:
                printer.say(f"workers finished; stopping {', '.join(left)}, still running "
                            f"after {shutdown_timeout:g} s")
            _stop_all(procs, kill_timeout)
            printer.say("all workers finished successfully")
            return 0
        if support_ended is None and any(p.code == 0 for p in support):
            support_ended = now
        if support_ended is not None and now - support_ended > orphan_timeout:
            gone = next(p for p in support if p.code == 0)
            printer.say(f"{gone.label} exited while workers were still running "
                        f"{orphan_timeout:g} s later; stopping them.", error=True)
            _stop_all(procs, kill_timeout)
            return 1
        if timeout is not None and now - start > timeout:
            running = [p.label for p in procs if p.popen.poll() is None]
            printer.say(f"timed out after {timeout:g} s; stopping {', '.join(running)}.",
                        error=True)
            _stop_all(procs, kill_timeout)
            return _EXIT_TIMEOUT
        time.sleep(0.05)
