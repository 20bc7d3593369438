"""Learning-rate schedules: the learning rate as a function of the update count.

A schedule gives a *factor* for every optimizer update ``t`` (counted from 0
over all ``fit`` calls of a trainer); the update uses the learning rate
``learning_rate * factor(t)``, where ``learning_rate`` is the trainer's. All
schedules may start with a linear **warm-up**: over the first ``warmup``
updates the factor grows as ``(t + 1) / warmup``, then the schedule proper
runs on its own clock ``s = t - warmup``:

- :class:`Constant`: ``1``;
- :class:`StepDecay`: ``gamma ** (s // step_size)`` (the rate drops by ``gamma``
  every ``step_size`` updates);
- :class:`Cosine`: ``final + (1 - final) * (1 + cos(pi * s / (total - warmup))) / 2``
  for ``s`` up to ``total - warmup``, then ``final`` (a half cosine from 1 down to
  ``final`` that ends after ``total`` updates in all).

Lengths are counted in updates (mini-batches). Left as ``None`` they are taken
from the first ``fit`` call: ``total`` is all its updates (``epochs`` times the
batches per epoch), ``step_size`` a third of them (two drops), ``warmup`` one
epoch. The trainer uses a schedule through ``Trainer(..., lr_schedule=...)``,
which takes a name (``'constant'``, ``'step'``, ``'cosine'``, ``'warmup'``) or a
schedule object; both work the same in the MXNet and the PyTorch layer.

Examples
--------
>>> from dlbook.schedules import Cosine
>>> schedule = Cosine(total=10, warmup=2)
>>> [round(schedule(t), 3) for t in range(11)]
[0.5, 1.0, 1.0, 0.962, 0.854, 0.691, 0.5, 0.309, 0.146, 0.038, 0.0]
"""
import math

from ._checks import check_choice, check_fraction, check_int, describe

__all__ = ["SCHEDULES", "Schedule", "Constant", "StepDecay", "Cosine", "get_schedule"]


class Schedule:
    """Base class: a learning-rate factor for every update, with an optional linear warm-up.

    Subclasses define :meth:`decay`, the factor after the warm-up, and list
    their parameters in ``_params`` (those that may be ``None`` until the
    first ``fit`` resolves them in ``_resolvable``).

    Parameters
    ----------
    warmup : int or None, default 0
        Updates of linear warm-up (``None``: one epoch of the first ``fit``).

    Examples
    --------
    >>> from dlbook.schedules import Schedule
    >>> class Halving(Schedule):
    ...     name = "halving"
    ...     def decay(self, s):
    ...         return 0.5 ** s
    >>> [Halving(warmup=2)(t) for t in range(5)]
    [0.5, 1.0, 1.0, 0.5, 0.25]
    """

    name = "schedule"
    _params = ("warmup",)
    _resolvable = ("warmup",)

    def __init__(self, warmup=0):
        self.warmup = None if warmup is None else check_int("warmup", warmup, minimum=0)

    def decay(self, step):  # pragma: no cover - abstract
        """The factor ``step`` updates after the warm-up."""
        raise NotImplementedError

    def __call__(self, step):
        """The learning-rate factor of update ``step`` (counted from 0)."""
        missing = [p for p in self._params if getattr(self, p) is None]
        if missing:
            raise ValueError(
                f"{self!r} has no value for {', '.join(f'`{p}`' for p in missing)} yet. Pass it, "
                "or let `Trainer.fit` fill it in from the first training run (a loader with "
                "a length)."
            )
        if step < self.warmup:
            return (step + 1) / self.warmup
        return float(self.decay(step - self.warmup))

    # ------------------------------------------------------- resolution
    def _defaults(self, total_updates, updates_per_epoch):
        """Values for the parameters left as None, from the first fit."""
        return {"warmup": updates_per_epoch}

    def resolve(self, total_updates, updates_per_epoch):
        """Fill the parameters left as ``None`` from a ``fit`` of ``total_updates`` updates.

        Parameters already set are kept, so only the first ``fit`` decides.

        Raises
        ------
        ValueError
            If a parameter is missing and the loader has no length.
        """
        missing = [p for p in self._resolvable if getattr(self, p) is None]
        if not missing:
            return
        if not total_updates or not updates_per_epoch:
            raise ValueError(
                f"`lr_schedule` {self!r} takes {', '.join(f'`{p}`' for p in missing)} from the "
                "number of batches, but the training data has no length. Pass them, e.g. "
                f"{type(self).__name__}({missing[0]}=1000)."
            )
        defaults = self._defaults(int(total_updates), int(updates_per_epoch))
        for p in missing:
            setattr(self, p, max(1, int(defaults[p])) if p != "warmup" else int(defaults[p]))
        self._check()

    def _check(self):
        """Check the parameters together (once all are known)."""

    # --------------------------------------------------- checkpoints
    def config(self):
        """The schedule's name and parameters as a JSON-ready dict."""
        return {"name": self.name, **{p: getattr(self, p) for p in self._params}}

    def load_config(self, config):
        """Take the parameters of :meth:`config` (a checkpoint restores a resolved schedule)."""
        for p in self._params:
            setattr(self, p, config.get(p))

    def __repr__(self):
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self._params)
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The trainer's learning rate throughout, after an optional warm-up.

    Parameters
    ----------
    warmup : int or None, default 0
        Updates of linear warm-up, at least 0 (``None``: one epoch of the first
        ``fit``, what the name ``'warmup'`` of :func:`get_schedule` gives).

    Examples
    --------
    >>> from dlbook.schedules import Constant
    >>> [Constant(warmup=4)(t) for t in range(6)]
    [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """

    name = "constant"

    def decay(self, step):
        return 1.0


class StepDecay(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` updates.

    Parameters
    ----------
    step_size : int, optional
        Updates between two drops (default: a third of the first ``fit``'s updates).
    gamma : float, default 0.1
        The factor of each drop, in (0, 1].
    warmup : int, default 0

    Examples
    --------
    >>> from dlbook.schedules import StepDecay
    >>> [StepDecay(step_size=2, gamma=0.5)(t) for t in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    name = "step"
    _params = ("step_size", "gamma", "warmup")
    _resolvable = ("step_size", "warmup")

    def __init__(self, step_size=None, gamma=0.1, warmup=0):
        super().__init__(warmup)
        self.step_size = None if step_size is None else check_int("step_size", step_size, minimum=1)
        self.gamma = check_fraction("gamma", gamma, 0.0, 1.0, include_low=False, include_high=True)

    def _defaults(self, total_updates, updates_per_epoch):
        return {"step_size": math.ceil(total_updates / 3), "warmup": updates_per_epoch}

    def decay(self, step):
        return self.gamma ** (step // self.step_size)


class Cosine(Schedule):
    """Half a cosine from the full learning rate down to ``final`` times it, over ``total`` updates.

    Parameters
    ----------
    total : int, optional
        Updates until the rate reaches ``final``, warm-up included (default: all
        updates of the first ``fit``). Later updates keep ``final``.
    final : float, default 0.0
        The last factor, in [0, 1].
    warmup : int, default 0
        Updates of linear warm-up, fewer than ``total``.

    Examples
    --------
    >>> from dlbook.schedules import Cosine
    >>> [round(Cosine(total=4)(t), 3) for t in range(6)]
    [1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
    """

    name = "cosine"
    _params = ("total", "final", "warmup")
    _resolvable = ("total", "warmup")

    def __init__(self, total=None, final=0.0, warmup=0):
        super().__init__(warmup)
        self.total = None if total is None else check_int("total", total, minimum=1)
        self.final = check_fraction("final", final, 0.0, 1.0, include_high=True)
        self._check()

    def _defaults(self, total_updates, updates_per_epoch):
        return {"total": total_updates, "warmup": updates_per_epoch}

    def _check(self):
        if self.total is not None and self.warmup is not None and self.warmup >= self.total:
            raise ValueError(
                f"Expected `warmup` < `total` for a cosine schedule, got warmup={self.warmup} "
                f"and total={self.total}. Shorten the warm-up or lengthen the schedule."
            )

    def decay(self, step):
        length = self.total - self.warmup
        progress = min(step, length) / length
        return self.final + (1.0 - self.final) * (1.0 + math.cos(math.pi * progress)) / 2.0


#: The schedules by name, as ``lr_schedule`` accepts them.
SCHEDULES = {"constant": Constant, "step": StepDecay, "cosine": Cosine}


def get_schedule(schedule, **params):
    """A fresh schedule for a name, or ``schedule`` itself if it is one already.

    Parameters
    ----------
    schedule : str or Schedule
        ``'constant'``, ``'step'``, ``'cosine'`` or ``'warmup'`` (a constant rate
        after one epoch of warm-up), or a :class:`Schedule`.
    **params
        Parameters of the named schedule, e.g. ``total=1000, warmup=100``.

    Examples
    --------
    >>> from dlbook.schedules import get_schedule
    >>> get_schedule("cosine", total=100, warmup=10)
    Cosine(total=100, final=0.0, warmup=10)
    >>> get_schedule("warmup")
    Constant(warmup=None)
    """
    if isinstance(schedule, Schedule):
        if params:
            raise TypeError("Pass parameters with a schedule's name, not with a schedule object.")
        return schedule
    if not isinstance(schedule, str):
        raise TypeError(
            "Expected `lr_schedule` as a name such as 'cosine' or a dlbook.schedules.Schedule, "
            f"got {describe(schedule)}."
        )
    name = check_choice("lr_schedule", schedule, set(SCHEDULES) | {"warmup"})
    if name == "warmup":
        params.setdefault("warmup", None)
        return Constant(**params)
    return SCHEDULES[name](**params)
