# dlbook: build the book, run the tests.
#   make book   create .venv, install everything, execute every chapter, write _build/html
#   make test   create .venv, install everything, run unit tests, doctests and the executed book
#   make pdf    the book as PDF, a Korean and an English edition, from the executed notebooks of
#               make book (run it first): _build/pdf/dlbook-ko.pdf and dlbook-en.pdf
#   make fast   the quick tier while working (unit tests and doctests, no book build, no installs)
#   make bench  the training benchmark (minutes, on an idle machine): bench/results.{json,md}
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book pdf test fast serve bench wheel clean constraints

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] <= (3, 11), "MXNet 1.9.1 needs Python <= 3.11 (numpy<1.24)"' \
	  || { echo "Set PYTHON to a Python 3.9-3.11 interpreter, e.g. make PYTHON=python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23" wheel
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[mxnet,torch,book,test]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $@

book: $(STAMP)
	$(BIN)/python -m tools.build_book

pdf: $(STAMP)
	$(BIN)/python -m tools.build_pdf

test: $(STAMP)
	$(BIN)/python -m pytest

fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

serve: book
	@echo "Serving _build/html at http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(BIN)/python bench/train_bench.py --repeats 5

wheel: $(STAMP)
	$(BIN)/python -m pip wheel --no-deps --wheel-dir dist .

constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(pip|setuptools|wheel)==' > constraints.txt

clean:
	rm -rf _build dist build *.egg-info
