"""Plan a distributed job: each process's role, environment, host and command line.

MXNet's parameter server learns its roles from ``DMLC_*`` variables
(:func:`dmlc_env`), a PyTorch job from ``torchrun``'s (:func:`torch_env`); a job
over SSH runs each command through :func:`ssh_command` on the hosts of
:func:`read_hosts`. Nothing here starts a process: :mod:`dlbook._launch_supervise`
does, and :func:`dlbook.launch.launch` ties the two together. The public names
are those of :mod:`dlbook.launch`, which re-exports them.
"""
import os
import re
import shlex
import socket

from ._checks import check_int, check_path, describe
from ._launch_supervise import _Process

__all__ = []  # private module: its public names are dlbook.launch's

ROLES = ("scheduler", "server", "worker")
#: The frameworks whose jobs the launcher starts.
FRAMEWORKS = ("mxnet", "torch")
_LISTENERS = {"mxnet": "the MXNet scheduler", "torch": "worker 0's PyTorch rendezvous"}
_DEFAULT_PORTS = {"mxnet": 9091, "torch": 29500}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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

    The operating system picks it (a bind to port 0), and the port is released
    again at once, so another program may take it before it is used.

    Parameters
    ----------
    host : str, default '127.0.0.1'
        An IPv4 address (or host name) of this machine; one that cannot be bound
        raises OSError.

    Returns
    -------
    int

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
    path = os.fspath(check_path("path", path))
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
