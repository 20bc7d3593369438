"""The book's build tools: the build, the PDF editions, the checks, one chapter's run.

Run them from the repository root as modules, ``.venv/bin/python -m tools.build_book``
(the Makefile does), or as files, ``.venv/bin/python tools/run_chapter.py book/X.md``:
a tool run as a file puts the repository root in place of its own folder on
``sys.path`` first, so that either way the tools import one another as ``tools.<name>``.
"""
