"""Start the processes of a distributed training job, and watch over them.

::

    dlbook launch -n 2 -s 1 python train.py            # MXNet, on this machine
    python -m dlbook.launch -n 2 -s 1 python train.py  # the same
    dlbook launch -n 4 -s 2 -H hosts.txt python train.py  # over SSH
    dlbook launch --framework torch -n 2 python train.py  # PyTorch: 2 workers, no servers

MXNet's distributed kvstore (``dist_sync``, ``dist_async``) is a parameter
server: one *scheduler* introduces the processes to each other, *servers* hold
the parameters and apply the updates, and *workers* run the training script.
Each process learns its role from ``DMLC_*`` environment variables; scheduler
and servers are plain ``python -c "import mxnet"`` processes, since MXNet turns
into a server on import when ``DMLC_ROLE`` says so.

A PyTorch job (``--framework torch``) has workers only: they combine their
gradients with an all-reduce over ``torch.distributed``. Each worker gets the
variables that ``torchrun`` sets (:func:`torch_env`): ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE`` and the rendezvous address
``MASTER_ADDR``/``MASTER_PORT``, where worker 0 listens. Without
``--framework`` the launcher starts an MXNet job when MXNet is installed, a
PyTorch job otherwise.

The launcher prefixes every output line with the process's role and index
(``[worker 1] ...``); a process finds its index in ``DLBOOK_LAUNCH_INDEX``.
(A worker's *rank* in MXNet's kvstore is handed out by the scheduler and may
differ from this index; in a PyTorch job the rank is the index.) It exits with the workers' status. When any process
fails, it stops all the others (SIGTERM, then SIGKILL after ``kill_timeout``
seconds), names the failed process with its exit status and last lines of
output, and exits non-zero. Every process runs in its own process group, and on
Linux dies with the launcher, so nothing is left behind.

Nothing waits forever. Besides a process that fails, the launcher stops the job
(exit status 124) when

* no process of a job on this machine has used the CPU for ``stall_timeout``
  seconds (default 60; Linux, read from ``/proc``): every process is waiting
  for another, as MXNet's synchronous kvstore does for a worker whose script
  ended before the others' (the launcher then names it), or as a PyTorch
  all-reduce does for a peer that stopped;
* the scheduler or a server exits while workers still run (after 30 s);
* ``timeout`` seconds have passed, if given.

A worker whose script raises while it holds MXNet's distributed kvstore exits at
once with status 1 after its traceback (:func:`dlbook.mxnet.distributed.create_kvstore`
sets this up), instead of waiting for the others to finish.
"""
import argparse
import collections
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from ._checks import check_int, check_number, describe

__all__ = [
    "FRAMEWORKS",
    "DEFAULT_STALL_TIMEOUT",
    "SCRIPT_ENDED_MARKER",
    "PortInUseError",
    "dmlc_env",
    "torch_env",
    "find_free_port",
    "check_port",
    "read_hosts",
    "ssh_command",
    "launch",
    "main",
]

ROLES = ("scheduler", "server", "worker")
#: The frameworks whose jobs the launcher starts.
FRAMEWORKS = ("mxnet", "torch")
_LISTENERS = {"mxnet": "the MXNet scheduler", "torch": "worker 0's PyTorch rendezvous"}
_DEFAULT_PORTS = {"mxnet": 9091, "torch": 29500}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAIL_LINES = 15
_EXIT_TIMEOUT = 124
#: Seconds without CPU use by any process of a local job after which the launcher stops it.
DEFAULT_STALL_TIMEOUT = 60.0
#: The line a launched MXNet worker prints when its script has ended and it starts to leave
#: the distributed kvstore (which waits for every other process); the launcher notes the
#: time and does not show the line.
SCRIPT_ENDED_MARKER = "[dlbook] script ended; leaving the distributed kvstore"


class PortInUseError(OSError):
    """The scheduler's port is taken by another program.

    Examples
    --------
    >>> from dlbook.launch import PortInUseError
    >>> issubclass(PortInUseError, OSError)
    True
    """


def _check_port_number(name, port):
    return check_int(name, port, minimum=1, maximum=65535)


def dmlc_env(role, num_workers, num_servers, root_uri="127.0.0.1", root_port=9091,
             node_host=None, verbose=0):
    """The ``DMLC_*`` environment variables of one process of a distributed job.

    Parameters
    ----------
    role : {'scheduler', 'server', 'worker'}
    num_workers, num_servers : int
        At least 1 each.
    root_uri : str, default '127.0.0.1'
        Address of the scheduler, reachable from every process.
    root_port : int, default 9091
        The scheduler's port.
    node_host : str, optional
        The address this process announces to the others (``DMLC_NODE_HOST``);
        ``'127.0.0.1'`` for a job on one machine.
    verbose : {0, 1, 2}, default 0
        ps-lite's logging (``PS_VERBOSE``).

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> from dlbook.launch import dmlc_env
    >>> env = dmlc_env("worker", num_workers=2, num_servers=1, root_port=9000,
    ...                node_host="127.0.0.1")
    >>> for key, value in sorted(env.items()):
    ...     print(key, value)
    DMLC_NODE_HOST 127.0.0.1
    DMLC_NUM_SERVER 1
    DMLC_NUM_WORKER 2
    DMLC_PS_ROOT_PORT 9000
    DMLC_PS_ROOT_URI 127.0.0.1
    DMLC_ROLE worker
    """
    if role not in ROLES:
        raise ValueError(f"Unknown `role` {role!r}. Expected one of: {', '.join(map(repr, ROLES))}.")
    num_workers = check_int("num_workers", num_workers, minimum=1)
    num_servers = check_int("num_servers", num_servers, minimum=1)
    root_port = _check_port_number("root_port", root_port)
    if not isinstance(root_uri, str) or not root_uri.strip():
        raise ValueError(f"Expected `root_uri` as a host name or address, got {describe(root_uri)}.")
    verbose = check_int("verbose", verbose, minimum=0, maximum=2)
    env = {
        "DMLC_ROLE": role,
        "DMLC_PS_ROOT_URI": root_uri,
        "DMLC_PS_ROOT_PORT": str(root_port),
        "DMLC_NUM_SERVER": str(num_servers),
        "DMLC_NUM_WORKER": str(num_workers),
    }
    if node_host is not None:
        env["DMLC_NODE_HOST"] = str(node_host)
    if verbose:
        env["PS_VERBOSE"] = str(verbose)
    return env


def torch_env(rank, num_workers, master_addr="127.0.0.1", master_port=29500, local_rank=None,
              local_world_size=None):
    """The variables of one worker of a PyTorch job, as ``torchrun`` sets them.

    Parameters
    ----------
    rank : int
        From 0 to ``num_workers - 1``; worker 0 opens the rendezvous.
    num_workers : int
        ``WORLD_SIZE``, at least 1.
    master_addr : str, default '127.0.0.1'
        The address of worker 0's machine, reachable from every worker.
    master_port : int, default 29500
        The rendezvous port (``torchrun``'s default).
    local_rank, local_world_size : int, optional
        The worker's index among those on its machine, and their number
        (default: ``rank`` and ``num_workers``, everything on one machine).

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> from dlbook.launch import torch_env
    >>> for key, value in sorted(torch_env(1, num_workers=2, master_port=29600).items()):
    ...     print(key, value)
    LOCAL_RANK 1
    LOCAL_WORLD_SIZE 2
    MASTER_ADDR 127.0.0.1
    MASTER_PORT 29600
    RANK 1
    WORLD_SIZE 2
    """
    num_workers = check_int("num_workers", num_workers, minimum=1)
    rank = check_int("rank", rank, minimum=0, maximum=num_workers - 1)
    master_port = _check_port_number("master_port", master_port)
    if not isinstance(master_addr, str) or not master_addr.strip():
        raise ValueError(f"Expected `master_addr` as a host name or address, got {describe(master_addr)}.")
    local_rank = rank if local_rank is None else check_int("local_rank", local_rank, minimum=0)
    local_world_size = num_workers if local_world_size is None else \
        check_int("local_world_size", local_world_size, minimum=local_rank + 1)
    return {
        "MASTER_ADDR": master_addr,
        "MASTER_PORT": str(master_port),
        "RANK": str(rank),
        "WORLD_SIZE": str(num_workers),
        "LOCAL_RANK": str(local_rank),
        "LOCAL_WORLD_SIZE": str(local_world_size),
    }


def find_free_port(host="127.0.0.1"):
    """A TCP port on ``host`` that no program listens on right now.

    Examples
    --------
    >>> from dlbook.launch import find_free_port
    >>> 0 < find_free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_port(port, host="127.0.0.1", framework="mxnet"):
    """Raise :class:`PortInUseError` if ``port`` on ``host`` cannot be bound.

    Parameters
    ----------
    port : int
    host : str, default '127.0.0.1'
    framework : {'mxnet', 'torch'}, default 'mxnet'
        Who would listen there (for the message): MXNet's scheduler or
        PyTorch's rendezvous.

    Returns
    -------
    int
        ``port``.

    Raises
    ------
    PortInUseError
        If another program holds the port.

    Examples
    --------
    >>> import socket
    >>> from dlbook.launch import check_port
    >>> busy = socket.socket()
    >>> busy.bind(("127.0.0.1", 0)); busy.listen()
    >>> port = busy.getsockname()[1]
    >>> check_port(port)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dlbook.launch.PortInUseError: Port ... on 127.0.0.1 is already in use, ...
    >>> busy.close()
    """
    port = _check_port_number("port", port)
    framework = _check_framework(framework)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as err:
            raise PortInUseError(
                f"Port {port} on {host} is already in use, so {_LISTENERS[framework]} cannot "
                f"listen there ({err.strerror}). Another program or an earlier run still "
                "holds it: choose another port with `--port`, or leave `--port` out to "
                "pick a free one."
            ) from err
    return port


def read_hosts(path):
    """Read a hosts file: one ``[user@]host`` per line; blank lines and ``#`` comments skipped.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    list of str

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it lists no host, or a line is not a valid host.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook.launch import read_hosts
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("# cluster\\nnode1\\n\\nalice@node2  # GPU box\\n")
    >>> read_hosts(f.name)
    ['node1', 'alice@node2']
    >>> os.remove(f.name)
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Hosts file `{path}` does not exist; expected one host per line.")
    hosts = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            _check_host(line, f"line {lineno} of `{path}`")
            hosts.append(line)
    if not hosts:
        raise ValueError(f"Hosts file `{path}` lists no host; expected one `[user@]host` per line.")
    return hosts


def _check_host(host, where="`host`"):
    if not isinstance(host, str) or not host or host.startswith("-") or re.search(r"\s", host):
        raise ValueError(
            f"Expected a host name such as 'node1' or 'alice@10.0.0.2' in {where}, got "
            f"{host!r} (a host may not be empty, contain spaces or start with '-')."
        )
    return host


def _check_env(env, name="env"):
    if env is None:
        return {}
    if not isinstance(env, dict):
        raise TypeError(f"Expected `{name}` as a dict of variable names to values, got {describe(env)}.")
    for key in env:
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise ValueError(f"Expected environment variable names in `{name}`, got {key!r}.")
    return {key: str(value) for key, value in env.items()}


def _check_framework(framework):
    if framework not in FRAMEWORKS:
        raise ValueError(f"Unknown `framework` {framework!r}. Expected one of: "
                         f"{', '.join(map(repr, FRAMEWORKS))}.")
    return framework


def _default_framework():
    """MXNet's job when MXNet is installed (the launcher's first framework), else PyTorch's."""
    import importlib.util

    return "mxnet" if importlib.util.find_spec("mxnet") is not None else "torch"


def _check_command(command):
    if isinstance(command, str) or not isinstance(command, (list, tuple)) or not command \
            or not all(isinstance(c, str) for c in command):
        raise ValueError(
            "Expected `command` as a non-empty list of strings, e.g. ['python', 'train.py'], "
            f"got {describe(command)}."
        )
    return list(command)


def ssh_command(host, command, env, cwd=None, ssh_options=()):
    """The ``ssh`` command line that runs ``command`` on ``host`` with ``env`` exported.

    The remote shell changes to ``cwd`` and replaces itself with ``command``.
    ``-tt`` gives the remote process a terminal, so that it receives SIGHUP and
    stops when the launcher stops the local ``ssh``; ``BatchMode`` makes a
    missing key an error instead of a password prompt.

    Parameters
    ----------
    host : str
        ``[user@]host``.
    command : list of str
    env : dict of str to str
        Variables to set on the remote side (the ``DMLC_*`` ones and any extra).
    cwd : str, optional
        Remote working directory (the same path as here, on a shared file system).
    ssh_options : sequence of str
        Extra arguments for ``ssh``, e.g. ``['-p', '2222']``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from dlbook.launch import ssh_command
    >>> ssh_command("alice@node1", ["python", "train.py", "--lr", "0.1"],
    ...             {"DMLC_ROLE": "worker", "NOTE": "a b"}, cwd="/home/alice/run")
    ... # doctest: +NORMALIZE_WHITESPACE
    ['ssh', '-tt', '-o', 'BatchMode=yes', 'alice@node1',
     "cd /home/alice/run && exec env DMLC_ROLE=worker NOTE='a b' python train.py --lr 0.1"]
    """
    _check_host(host)
    command = _check_command(command)
    env = _check_env(env)
    if isinstance(ssh_options, str):
        raise TypeError(f"Expected `ssh_options` as a list of strings, got the string {ssh_options!r}.")
    parts = []
    if cwd is not None:
        parts.append(f"cd {shlex.quote(os.fspath(cwd))} &&")
    parts.append("exec env")
    parts += [f"{key}={shlex.quote(value)}" for key, value in env.items()]
    parts += [shlex.quote(c) for c in command]
    return ["ssh", "-tt", "-o", "BatchMode=yes", *list(ssh_options), host, " ".join(parts)]


# ------------------------------------------------------------------ processes
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


def _plan(command, num_workers, num_servers, hosts, port, env, python, verbose, ssh_options,
          launch_id, framework="mxnet"):
    """The processes to start, scheduler first, as a list of :class:`_Process`.

    A PyTorch job has no scheduler and no servers: ``num_servers`` and
    ``python`` are ignored, and the workers get :func:`torch_env`.
    """
    local = hosts is None
    root_uri = "127.0.0.1" if local else hosts[0].rsplit("@", 1)[-1]
    support = [("scheduler", 0)] + [("server", i) for i in range(num_servers)]
    plan = (support if framework == "mxnet" else []) + [("worker", i) for i in range(num_workers)]
    # The host (index) of each worker, and so its rank among the workers on its host. MXNet's
    # workers go round the hosts after the servers; PyTorch's start at the first host, where
    # worker 0 opens the rendezvous.
    first = num_servers if framework == "mxnet" else 0
    worker_hosts = [0 if local else (first + i) % len(hosts) for i in range(num_workers)]
    procs = []
    for n, (role, index) in enumerate(plan):
        if framework == "torch":
            mine = worker_hosts[index]
            variables = torch_env(index, num_workers, master_addr=root_uri, master_port=port,
                                  local_rank=worker_hosts[:index].count(mine),
                                  local_world_size=worker_hosts.count(mine))
        else:
            variables = dmlc_env(role, num_workers, num_servers, root_uri=root_uri,
                                 root_port=port, node_host="127.0.0.1" if local else None,
                                 verbose=verbose)
        variables.update({"PYTHONUNBUFFERED": "1", "DLBOOK_LAUNCH_ID": launch_id,
                          "DLBOOK_LAUNCH_INDEX": str(index)})
        if local:
            # Share the cores: MXNet would start one OpenMP thread per core in every process.
            threads = max(1, (os.cpu_count() or 1) // num_workers) if role == "worker" else 1
            variables["OMP_NUM_THREADS"] = str(threads)
            # Processes that share the cores must not spin while they wait. GOMP_SPINCOUNT
            # is set too: an inherited one (dlbook's default) would override the policy.
            variables["OMP_WAIT_POLICY"] = "PASSIVE"
            variables["GOMP_SPINCOUNT"] = "0"
        variables.update(env)  # the caller's variables win
        argv = list(command) if role == "worker" else [python, "-c", "import mxnet"]
        if local:
            host = "127.0.0.1"
            proc_env = {**os.environ, **variables}
        else:
            # MXNet: the scheduler runs on the first host; servers and workers go round the
            # list. PyTorch: workers go round the list, worker 0 (the rendezvous) first.
            host = hosts[0] if role == "scheduler" else \
                hosts[worker_hosts[index]] if role == "worker" else hosts[(n - 1) % len(hosts)]
            argv = ssh_command(host, argv, variables, cwd=os.getcwd(), ssh_options=ssh_options)
            proc_env = None
        procs.append(_Process(role, index, host, argv, proc_env))
    return procs


def launch(command, num_workers=2, num_servers=None, hosts=None, port=None, timeout=None,
           env=None, python=None, verbose=0, kill_timeout=5.0, ssh_options=(), output=None,
           error_output=None, framework=None, stall_timeout=DEFAULT_STALL_TIMEOUT):
    """Run ``command`` as ``num_workers`` workers of a distributed job; return its status.

    For MXNet, starts the scheduler, ``num_servers`` servers and the workers;
    for PyTorch, the workers alone, with the variables of ``torchrun``
    (:func:`torch_env`). They run on this machine, or over SSH on ``hosts``;
    their output is streamed line by line prefixed with ``[role index]``, and
    the launcher waits.

    Parameters
    ----------
    command : list of str
        The worker command, e.g. ``['python', 'train.py']``.
    num_workers : int
        At least 1.
    num_servers : int, optional
        MXNet's parameter servers, at least 1 (default 1). A PyTorch job has
        none: giving a number is an error.
    hosts : list of str, optional
        ``[user@]host`` names (see :func:`read_hosts`). The scheduler (MXNet)
        or worker 0 (PyTorch) runs on the first one, the other processes are
        spread round the list. Default: every process on this machine, talking
        over 127.0.0.1.
    port : int, optional
        The scheduler's port (MXNet) or the rendezvous port ``MASTER_PORT``
        (PyTorch). Default: a free one. On this machine a busy port raises
        :class:`PortInUseError` before anything starts.
    timeout : float, optional
        Stop everything and return 124 after this many seconds.
    stall_timeout : float or None, default :data:`DEFAULT_STALL_TIMEOUT` (60)
        Stop everything and return 124 when no process of the job has used the
        CPU for this many seconds: the job is stuck, each process waiting for
        another (a worker whose script ended early, a peer that stopped). The
        report names a worker that left early and shows each worker's last
        lines. Checked for jobs on this machine on Linux (``/proc``); ``None``
        or 0 turns it off.
    env : dict of str to str, optional
        Extra environment variables for every process. Locally each process
        also inherits this one's environment, and each worker gets
        ``OMP_NUM_THREADS`` = cores // workers unless ``env`` sets it.
    python : str, optional
        The Python that runs MXNet's scheduler and servers (default: this one).
    verbose : {0, 1, 2}, default 0
        ps-lite's logging (``PS_VERBOSE``).
    kill_timeout : float, default 5.0
        Seconds between SIGTERM and SIGKILL when stopping processes.
    ssh_options : sequence of str
        Extra ``ssh`` arguments (with ``hosts``).
    output, error_output : file-like, optional
        Where output and the launcher's error reports go (default: stdout, stderr).
    framework : {'mxnet', 'torch'}, optional
        The kind of job. Default: ``'mxnet'`` when MXNet is installed, else ``'torch'``.

    Returns
    -------
    int
        0 when every worker succeeded; otherwise the failed process's exit
        status (128 + N for a process killed by signal N), or 124 after
        ``timeout`` or a stall (``stall_timeout``).

    Raises
    ------
    PortInUseError
        If ``port`` is taken on this machine.
    ValueError, TypeError
        For invalid arguments, before anything starts.

    Examples
    --------
    A real job (see the chapter on distributed training for one that runs):

    >>> import sys
    >>> from dlbook.launch import launch
    >>> status = launch([sys.executable, "train.py"], num_workers=2, num_servers=1,
    ...                 timeout=600)  # doctest: +SKIP
    >>> status = launch([sys.executable, "train.py"], num_workers=2, framework="torch",
    ...                 timeout=600)  # doctest: +SKIP

    Arguments are checked before anything starts:

    >>> launch([sys.executable, "train.py"], num_workers=0)
    Traceback (most recent call last):
    ...
    ValueError: Expected `num_workers` >= 1, got 0.
    """
    command = _check_command(command)
    framework = _default_framework() if framework is None else _check_framework(framework)
    num_workers = check_int("num_workers", num_workers, minimum=1)
    if framework == "torch" and num_servers is not None:
        raise ValueError(
            f"A PyTorch job has no parameter servers (its workers all-reduce the gradients), "
            f"got `num_servers`={num_servers!r}. Leave out `num_servers` (`-s`), or use "
            "framework='mxnet'.")
    num_servers = check_int("num_servers", 1 if num_servers is None else num_servers, minimum=1)
    env = _check_env(env)
    verbose = check_int("verbose", verbose, minimum=0, maximum=2)
    seconds = "a number of seconds"
    timeout = check_number("timeout", timeout, above=0, allow_none=True, what=seconds)
    kill_timeout = check_number("kill_timeout", kill_timeout, above=0, what=seconds)
    stall_timeout = check_number("stall_timeout", stall_timeout, minimum=0, allow_none=True,
                                 what=seconds, fix="Pass 0 or None for no check.")
    stall_timeout = stall_timeout or None
    if hosts is not None:
        if isinstance(hosts, str) or not isinstance(hosts, (list, tuple)) or not hosts:
            raise ValueError(f"Expected `hosts` as a non-empty list of host names, got {describe(hosts)}.")
        hosts = [_check_host(h, "`hosts`") for h in hosts]
    python = python or sys.executable
    if port is None:
        port = find_free_port() if hosts is None else _DEFAULT_PORTS[framework]
    elif hosts is None:
        check_port(port, framework=framework)
    else:
        port = _check_port_number("port", port)
    printer = _Printer(output or sys.stdout, error_output or sys.stderr)
    procs = _plan(command, num_workers, num_servers, hosts, port, env, python, verbose,
                  tuple(ssh_options), uuid.uuid4().hex, framework=framework)
    where = "127.0.0.1" if hosts is None else hosts[0].rsplit("@", 1)[-1]
    if framework == "mxnet":
        printer.say(f"scheduler at {where}:{port}; {num_servers} server(s), "
                    f"{num_workers} worker(s)")
    else:
        printer.say(f"PyTorch rendezvous at {where}:{port} (MASTER_ADDR:MASTER_PORT); "
                    f"{num_workers} worker(s), no servers")

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        def on_signal(signum, _frame):
            raise _Interrupted(signum)

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            handlers[sig] = signal.signal(sig, on_signal)
    try:
        return _run(procs, printer, timeout, kill_timeout, stall_timeout=stall_timeout)
    except _Interrupted as stop:
        printer.say(f"interrupted by {signal.Signals(stop.signum).name}; stopping all processes",
                    error=True)
        _stop_all(procs, kill_timeout)
        return 128 + stop.signum
    finally:
        _stop_all(procs, kill_timeout)  # a no-op when everything has ended
        for proc in procs:
            if proc.thread is not None:
                proc.thread.join(timeout=2.0)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


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


# ----------------------------------------------------------------------- CLI
def _parser():
    parser = argparse.ArgumentParser(
        prog="dlbook launch",
        description="Run a training script as the workers of a distributed job: MXNet's "
                    "parameter server (kvstore 'dist_sync' or 'dist_async') or PyTorch's "
                    "all-reduce over torch.distributed (kvstore 'dist_sync').",
        epilog="examples: dlbook launch -n 2 -s 1 python train.py\n"
               "          dlbook launch --framework torch -n 2 python train.py\n\n"
               "exit status: 0 when every worker succeeds; otherwise that of the process that "
               "failed (128+N when killed by signal N), 124 after --timeout or when the job "
               "stalls (--stall-timeout), 2 for invalid arguments.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--num-workers", type=int, required=True,
                        help="number of worker processes")
    parser.add_argument("-f", "--framework", choices=FRAMEWORKS, default=None,
                        help="the kind of job (default: mxnet when MXNet is installed, "
                             "else torch)")
    parser.add_argument("-s", "--num-servers", type=int, default=None,
                        help="number of MXNet parameter servers (default 1; none for torch)")
    parser.add_argument("-H", "--hostfile", default=None,
                        help="file with one [user@]host per line: run over SSH on these "
                             "machines (default: every process on this machine)")
    parser.add_argument("-p", "--port", type=int, default=None,
                        help="the MXNet scheduler's or PyTorch rendezvous' port (default: a "
                             "free one)")
    parser.add_argument("-t", "--timeout", type=float, default=None,
                        help="stop everything and exit 124 after this many seconds")
    parser.add_argument("--stall-timeout", type=float, default=DEFAULT_STALL_TIMEOUT,
                        metavar="SECONDS",
                        help="stop everything and exit 124 when no process of the job has used "
                             "the CPU for this long: it is stuck, e.g. waiting for a worker that "
                             f"ended early (default {DEFAULT_STALL_TIMEOUT:g}; 0: no check; "
                             "jobs on this machine only)")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment variable for every process (repeatable)")
    parser.add_argument("--python", default=None,
                        help="Python that runs the scheduler and servers (default: this one; "
                             "with --hostfile the same path must exist on every host)")
    parser.add_argument("--ssh-option", action="append", default=[], metavar="OPTION",
                        help="extra argument for ssh (repeatable), e.g. --ssh-option=-p2222")
    parser.add_argument("--kill-timeout", type=float, default=5.0,
                        help="seconds between SIGTERM and SIGKILL when stopping (default 5)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="ps-lite logging (-v, -vv)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the worker command, e.g. python train.py")
    return parser


def main(argv=None):
    """The ``dlbook`` command: ``dlbook launch [options] command ...``.

    Also runs as ``python -m dlbook.launch [options] command ...``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (see :func:`launch`); 2 for invalid arguments.

    Examples
    --------
    >>> from dlbook.launch import main
    >>> main(["launch", "-n", "2"])  # no command: an error on stderr, status 2
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "launch":
        argv = argv[1:]
    parser = _parser()
    if not argv:
        print(parser.format_usage() + "See `dlbook launch --help`.", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)  # --help prints the help and exits with 0

    def error(message):
        print(f"dlbook launch: error: {message}", file=sys.stderr)
        return 2

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        return error("no worker command given; e.g. `dlbook launch -n 2 -s 1 python train.py`.")
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not _ENV_NAME.match(key):
            return error(f"expected --env KEY=VALUE, got {item!r}.")
        env[key] = value
    try:
        hosts = read_hosts(args.hostfile) if args.hostfile else None
        return launch(command, num_workers=args.num_workers, num_servers=args.num_servers,
                      hosts=hosts, port=args.port, timeout=args.timeout, env=env,
                      python=args.python, verbose=min(args.verbose, 2),
                      kill_timeout=args.kill_timeout, ssh_options=args.ssh_option,
                      framework=args.framework, stall_timeout=args.stall_timeout)
    except (OSError, ValueError, TypeError) as err:
        return error(str(err))


if __name__ == "__main__":
    sys.exit(main())
