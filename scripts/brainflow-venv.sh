#!/usr/bin/env bash
# Makes (or reuses) a virtual environment at $1 with BrainFlow's PyPI package, the
# reference the legacy backend and the C API are tested against, and prints the
# package's folder (its lib/ holds BrainFlow's libBoardController.so).
set -euo pipefail
venv="$1"
version="${BRAINFLOW_VERSION:-5.23.0}"
# Test binaries run in parallel and may share one environment: one installer at a time.
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import brainflow, sys; from importlib.metadata import version; sys.exit(version('brainflow') != '$version')" 2>/dev/null; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "brainflow==$version" >&2
fi
"$venv/bin/python" -c "import brainflow, os; print(os.path.dirname(brainflow.__file__))"
