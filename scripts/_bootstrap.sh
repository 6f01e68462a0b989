# Sourced by scripts/demo and scripts/test: make sure .venv exists and holds the
# project as pyproject.toml currently describes it. Needs only Python 3.11+.

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

if [ ! -x .venv/bin/python ]; then
    python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "datatier needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    echo "creating .venv with $("$python" --version)" >&2
    "$python" -m venv .venv || exit 1
fi

# Reinstall only when pyproject.toml differs from what the last install saw.
stamp=.venv/.datatier-install-stamp
wanted="$(.venv/bin/python -c 'import hashlib, pathlib; print(hashlib.sha256(pathlib.Path("pyproject.toml").read_bytes()).hexdigest())')" || exit 1
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "installing datatier and its test tools into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' || exit 1
    echo "$wanted" > "$stamp"
fi
