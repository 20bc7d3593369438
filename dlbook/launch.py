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

The launcher is cut by concern: :mod:`dlbook._launch_plan` plans the processes
(roles, environments, hosts, SSH command lines), :mod:`dlbook._launch_supervise`
starts and watches them, and this module holds :func:`launch`, which checks the
arguments and ties the two together, and the ``dlbook launch`` command line
(:func:`main`).
"""
import argparse
import signal
import sys
import threading
import uuid

from ._checks import check_int, check_number, describe
from ._launch_plan import (  # _default_framework and _plan: the tests call them through here
    _DEFAULT_PORTS, _ENV_NAME, FRAMEWORKS, PortInUseError, _check_command, _check_env,
    _check_framework, _check_host, _check_port_number, _default_framework, _plan, check_port,
    dmlc_env, find_free_port, read_hosts, ssh_command, torch_env,
)
from ._launch_supervise import (
    DEFAULT_STALL_TIMEOUT, SCRIPT_ENDED_MARKER, _Interrupted, _Printer, _run, _stop_all,
)

for _name in ("PortInUseError", "dmlc_env", "torch_env", "find_free_port", "check_port",
              "read_hosts", "ssh_command"):
    globals()[_name].__module__ = __name__  # tracebacks, pickles and the API pages say dlbook.launch
del _name

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
