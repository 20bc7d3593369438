"""A public-domain corpus: the King James Bible, read from Debian's ``bible-kjv`` program.

The corpus of the chapter on recurrent networks. :func:`load_kjv` shells out to
the ``bible`` program (``apt install bible-kjv``), which needs no download, and
strips its headings and verse numbers. Re-exported by :mod:`dlbook.sequence`
and by both layers' ``sequence`` modules, where the book uses it.
"""
import difflib
import re
import shutil
import subprocess

from ._checks import describe

__all__ = ["KJV_BOOKS", "load_kjv"]

#: The 66 books of the King James Bible, in order, named as the ``bible`` program prints them.
KJV_BOOKS = (
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth",
    "1 Samuel", "2 Samuel", "1 Kings", "2 Kings", "1 Chronicles", "2 Chronicles", "Ezra",
    "Nehemiah", "Esther", "Job", "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon",
    "Isaiah", "Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel", "Amos",
    "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah",
    "Malachi", "Matthew", "Mark", "Luke", "John", "Acts", "Romans", "1 Corinthians",
    "2 Corinthians", "Galatians", "Ephesians", "Philippians", "Colossians",
    "1 Thessalonians", "2 Thessalonians", "1 Timothy", "2 Timothy", "Titus", "Philemon",
    "Hebrews", "James", "1 Peter", "2 Peter", "1 John", "2 John", "3 John", "Jude",
    "Revelation",
)


_HEADER = re.compile(r"^(\S.*) (\d+)$")
_VERSE = re.compile(r"^\s+(\d+) (.*)$")


def _book_name(name):
    if not isinstance(name, str):
        raise TypeError(f"Expected book names as strings, got {describe(name)}.")
    lookup = {b.lower(): b for b in KJV_BOOKS}
    key = " ".join(name.split()).lower()
    if key not in lookup:
        close = difflib.get_close_matches(name, KJV_BOOKS, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown book {name!r}.{hint} Expected a name from `dl.sequence.KJV_BOOKS`, "
            "e.g. 'Genesis', '1 Samuel' or 'Song of Solomon'."
        )
    return lookup[key]


def load_kjv(books=None, references=False, program="bible"):
    """Read the King James Bible (public domain) with Debian's ``bible`` program.

    The text comes from the packages ``bible-kjv`` (the program) and
    ``bible-kjv-text`` (the data); nothing is downloaded. The program prints
    chapter headings ("Genesis 1") and numbered verses; this function drops the
    headings and the verse numbers and returns one verse per line.

    Parameters
    ----------
    books : str or sequence of str, optional
        Names from :data:`KJV_BOOKS` (case does not matter), e.g. ``'Genesis'``
        or ``['Matthew', 'Mark']``. Default: all 66 books.
    references : bool, default False
        Start every line with its reference, e.g. ``'Genesis 1:1 In the ...'``.
    program : str, default 'bible'
        The program to run (a name on ``PATH`` or a path).

    Returns
    -------
    str
        The verses, separated by ``'\\n'``.

    Raises
    ------
    FileNotFoundError
        If the program is missing; the message names the Debian packages.
    ValueError
        For an unknown book name.
    RuntimeError
        If the program fails or prints no verses.

    Examples
    --------
    >>> from dlbook.sequence import load_kjv
    >>> genesis = load_kjv("Genesis")
    >>> genesis[:55]
    'In the beginning God created the heaven and the earth.\\n'
    >>> len(genesis.splitlines())  # Genesis has 1,533 verses
    1533
    >>> load_kjv(["John"], references=True).splitlines()[-1][:25]
    'John 21:25 And there are '
    """
    if books is None:
        names = list(KJV_BOOKS)
    elif isinstance(books, str):
        names = [_book_name(books)]
    elif isinstance(books, (list, tuple)) and books:
        names = [_book_name(b) for b in books]
    else:
        raise TypeError(
            "Expected `books` as a book name, a non-empty list of names, or None (all), "
            f"got {describe(books)}."
        )
    if not isinstance(program, str) or not program:
        raise TypeError(f"Expected `program` as a non-empty string, got {describe(program)}.")
    executable = shutil.which(program)
    if executable is None:
        raise FileNotFoundError(
            f"The program {program!r} that prints the King James Bible was not found. It "
            "comes from Debian's packages `bible-kjv` (the program) and `bible-kjv-text` "
            "(the text): install them with `sudo apt install bible-kjv bible-kjv-text`."
        )
    # "Gen1:1-Gen999:999" asks for a whole book: the program stops at its last verse.
    specs = [f"{n.replace(' ', '')}1:1-{n.replace(' ', '')}999:999" for n in names]
    proc = subprocess.run([executable, "-l100000", *specs], capture_output=True, text=True,
                          timeout=120, check=False)
    errors = proc.stderr.strip()
    if proc.returncode != 0 or errors:
        raise RuntimeError(
            f"{program!r} failed (exit status {proc.returncode}): {errors[:300] or 'no message'}. "
            "Check that Debian's `bible-kjv-text` (the text file) is installed."
        )
    lines, book, chapter = [], None, None
    for line in proc.stdout.splitlines():
        header = _HEADER.match(line)
        if header:
            book, chapter = header.group(1), header.group(2)
            continue
        verse = _VERSE.match(line)
        if verse:
            text = verse.group(2).strip()
            lines.append(f"{book} {chapter}:{verse.group(1)} {text}" if references else text)
    if not lines:
        raise RuntimeError(
            f"{program!r} printed no verses for {names}. Is `bible-kjv-text` installed?"
        )
    return "\n".join(lines)
