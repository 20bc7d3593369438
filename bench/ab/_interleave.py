"""The shared loop of the A/B scripts in bench/ab: two Trainers, epochs interleaved.

Each script builds two ``(trainer, loader)`` runs, a candidate and a baseline, and calls
:func:`compare`; the order alternates pair by pair so that a slow minute of the machine
falls on both. The reported ratio is the baseline's epoch time over the candidate's
(above 1: the candidate is faster).
"""
import statistics


def compare(label, candidate, baseline, pairs, names=("new", "old")):
    """Warm both runs up, time ``pairs`` interleaved epochs each, print and return the ratios."""
    runs = dict(zip(names, (candidate, baseline)))
    for trainer, loader in runs.values():
        trainer.fit(loader, epochs=1, verbose=False)  # warm-up (and deferred initialization)
    times = {name: [] for name in names}
    for i in range(pairs):
        for name in (names if i % 2 == 0 else names[::-1]):
            trainer, loader = runs[name]
            times[name].append(trainer.fit(loader, epochs=1, verbose=False)["time"][-1])
    ratios = [old / new for new, old in zip(times[names[0]], times[names[1]])]
    print(f"{label}: {names[0]} {statistics.median(times[names[0]]):.3f} s, {names[1]} "
          f"{statistics.median(times[names[1]]):.3f} s per epoch; speed-up median "
          f"{statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}, "
          f"{sum(r > 1 for r in ratios)}/{len(ratios)} pairs faster")
    return ratios
