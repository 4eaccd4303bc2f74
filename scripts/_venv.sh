# Sourced by scripts/run and scripts/test: makes .venv with the given requirements file installed.
# Needs only Python 3.11 or newer on the machine.

ensure_venv() {
    local requirements="$1"
    local python="${PYTHON:-}"
    if [ -z "$python" ]; then
        python=$(command -v python3.11 || command -v python3 || true)
    fi
    if [ -z "$python" ]; then
        echo "Python 3.11 is needed: install it (e.g. apt-get install python3.11 python3.11-venv)." >&2
        exit 1
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "Python 3.11 or newer is needed; $python is $("$python" --version 2>&1)." >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "Creating the virtualenv in .venv ..."
        "$python" -m venv .venv
    fi
    # A stamp per requirements file and content, so that later runs skip pip entirely.
    local version stamp
    version=$(cat requirements*.txt | sha256sum | cut -c1-16)
    stamp=".venv/.installed-$version-$(basename "$requirements")"
    if [ ! -f "$stamp" ]; then
        echo "Installing $requirements into .venv ..."
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
        touch "$stamp"
        # The test requirements include the server's.
        [ "$(basename "$requirements")" != requirements-dev.txt ] ||
            touch ".venv/.installed-$version-requirements.txt"
    fi
}
