"""The MXNet layer's one door to Gluon's private internals.

MXNet 1.9.1 is its last release, so its private attributes will not move; still,
every use of one is here, named for what it gives, so the rest of the layer
reads as public API and a reader sees at once what depends on internals.
"""
import functools
import os

import mxnet as mx

__all__ = ["always_np", "has_value", "value_of", "is_initialized", "give_shape",
           "params_by_path", "updates_on_kvstore", "local_updater", "build_state", "restore_build_state"]


@functools.lru_cache(maxsize=None)
def always_np(cls, **methods):
    """A subclass of the Gluon block ``cls`` that always runs in MXNet's NumPy mode.

    ``methods`` replace methods of ``cls`` (e.g. a ``hybrid_forward`` written with
    NumPy-mode operators). The subclass keeps the name, docstring and module of
    ``cls``; the same arguments give the same class.

    >>> from mxnet import gluon
    >>> Dense = always_np(gluon.nn.Dense)
    >>> Dense.__name__, issubclass(Dense, gluon.nn.Dense), always_np(gluon.nn.Dense) is Dense
    ('Dense', True, True)
    """
    namespace = {"__doc__": cls.__doc__, "__module__": cls.__module__, **methods}
    return mx.util.use_np(type(cls.__name__, (cls,), namespace))


def has_value(param):
    """Whether the Gluon Parameter ``param`` holds arrays (False while its shape is deferred)."""
    return param._data is not None


def value_of(param):
    """The first array of ``param`` (one per device), or None before initialization."""
    return param._data[0] if param._data else None


def is_initialized(param):
    """Whether ``param`` holds arrays or waits for the first batch to learn its shape."""
    return has_value(param) or bool(param._deferred_init)


def give_shape(param, shape):
    """Finish the deferred initialization of ``param`` with ``shape`` (before ``set_data``)."""
    param.shape = shape
    param._finish_deferred_init()


def params_by_path(block):
    """The parameters of ``block`` by structural path (``'0.weight'``, ``'1.bias'``, ...).

    Unlike ``collect_params()``'s names these do not depend on how many blocks
    were created before, so they name the same parameter in every session.
    """
    return block._collect_params_with_prefix()


def updates_on_kvstore(gluon_trainer):
    """Whether a ``gluon.Trainer``'s optimizer updates the weights on its kvstore.

    Then the optimizer state lives in the kvstore (not in the trainer's own
    updaters) and so does a copy of the weights. Gluon decides it at the first
    step; before that, this predicts Gluon's rule (``mxnet.model._create_kvstore``
    and ``gluon.Trainer._init_kvstore``). A kvstore named by a string is used only
    for several devices or a distributed store; a kvstore in use updates unless
    ``update_on_kvstore=False`` or ``MXNET_UPDATE_ON_KVSTORE=0`` says otherwise
    (a 'dist_async' store always updates). The one case it cannot know in advance,
    a 'local' store that Gluon lets update locally for a parameter of over 16M
    values, it counts as an update on the kvstore.
    """
    if gluon_trainer._kv_initialized:
        return bool(gluon_trainer._kvstore and gluon_trainer._update_on_kvstore)
    config = gluon_trainer._kvstore_params
    kvstore, explicit = config["kvstore"], config["update_on_kvstore"]
    if kvstore is None:
        return False
    store_type = kvstore if isinstance(kvstore, str) else kvstore.type
    distributed = "dist" in store_type
    if isinstance(kvstore, str):
        if len(gluon_trainer._contexts or []) == 1 and not distributed:
            return False  # Gluon uses no kvstore for one device
        capable = True  # every store a string names (local, device, dist_*) has an optimizer
    else:
        capable = kvstore.is_capable(mx.kvstore.KVStoreBase.OPTIMIZER)
    if gluon_trainer._contains_sparse_weight:
        return True
    if explicit is not None:
        return bool(explicit)
    if distributed and "async" in store_type:
        return True
    if gluon_trainer._contains_sparse_grad:
        return distributed
    return capable and bool(int(os.getenv("MXNET_UPDATE_ON_KVSTORE", "1")))


def local_updater(gluon_trainer):
    """The updater of a ``gluon.Trainer`` that updates on this process, or None (kvstore updates).

    Gluon keeps one updater per device also when the kvstore updates the weights,
    unused and empty then: :func:`updates_on_kvstore` tells which holds the state.
    """
    if updates_on_kvstore(gluon_trainer) or not gluon_trainer._updaters:
        return None
    return gluon_trainer._updaters[0]


_BUILD_STATE = ("_shape", "_deferred_init", "_ctx_list", "_ctx_map", "_data", "_grad")


def build_state(params):
    """What a first forward pass changes in the not-yet-built ``params``, to undo it.

    Deferred initialization fills in a parameter's shape, arrays and devices;
    :func:`restore_build_state` puts them back as they were.
    """
    return [(p, {k: getattr(p, k) for k in _BUILD_STATE}) for p in params if not has_value(p)]


def restore_build_state(state):
    """Undo what a forward pass built in the parameters saved by :func:`build_state`."""
    for param, attrs in state:
        for key, value in attrs.items():
            setattr(param, key, value)
