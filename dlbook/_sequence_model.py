"""What both layers' ``RNNModel`` share: argument checks, input and state errors, kept state.

Each framework layer builds its recurrent network from these; the NumPy core
imports no framework. Introduced with ``RNNModel`` in ``book/rnn.md``.
"""
from ._checks import check_bool, check_choice, check_int, check_number, describe

__all__ = []  # private module: the layers' RNNModel is the public face

#: Recurrent cells offered by ``RNNModel`` in both layers.
CELLS = ("rnn", "gru", "lstm")


def _check_rnn_args(num_outputs, num_hiddens, cell, num_layers, vocab_size, return_sequences,
                    dropout, stateful):
    """Check RNNModel's arguments (both layers) and return them normalized, as a dict."""
    args = {
        "num_outputs": check_int("num_outputs", num_outputs, minimum=1),
        "num_hiddens": check_int("num_hiddens", num_hiddens, minimum=1),
        "cell": check_choice("cell", cell, set(CELLS)),
        "num_layers": check_int("num_layers", num_layers, minimum=1),
        "vocab_size": None if vocab_size is None else check_int("vocab_size", vocab_size,
                                                                 minimum=1),
    }
    if return_sequences is None:
        return_sequences = args["vocab_size"] is not None
    check_bool("return_sequences", return_sequences)
    args["return_sequences"] = return_sequences
    args["dropout"] = check_number("dropout", dropout, minimum=0.0, below=1.0)
    check_bool("stateful", stateful)
    args["stateful"] = stateful
    return args


def _check_features(X_shape, known):
    """The forecaster's check that every call has the feature count of the first one."""
    if known and X_shape[2] != known:
        raise ValueError(
            f"Expected `X` with {known} feature(s) per time step, the number the model "
            f"was first called with, got shape {tuple(X_shape)}."
        )


def _input_error(X_shape, vocab_size):
    """The error for an input of the wrong rank (both layers)."""
    if vocab_size is not None:
        return ValueError(
            f"Expected `X` with 2 dimensions (batch, time) of token indices, got shape "
            f"{tuple(X_shape)}. For one sequence use X.reshape(1, -1)."
        )
    return ValueError(
        f"Expected `X` with 2 (batch, time) or 3 (batch, time, features) dimensions, "
        f"got shape {tuple(X_shape)}. For one window use X.reshape(1, -1)."
    )


def _state_error(expected, state):
    return ValueError(
        f"Expected `state` as a list of {expected} array(s) from `begin_state`, got "
        f"{describe(state)}."
    )


class _StateKeeper:
    """What a ``stateful`` RNNModel does between calls, in both layers.

    A stateful model called without a state starts from the state its previous
    call left (detached: the value passes on, the gradient path is cut), so a
    training loop that only calls ``net(X)``, such as the Trainer's, does
    truncated backpropagation through time over consecutive batches. It starts
    from zeros instead on the first call, after :meth:`reset_state`, and when
    the batch size, the device or the mode (training or inference) differs
    from the previous call's.
    """

    _kept = None

    def reset_state(self):
        """Forget the kept state; the next call of a stateful model starts from zeros."""
        self._kept = None

    def _initial_state(self, key, zeros):
        if self._kept is not None and self._kept[0] == key:
            return self._kept[1]
        return zeros()

    def _keep(self, key, state):
        self._kept = (key, [s.detach() for s in state])
