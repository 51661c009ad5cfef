# Sourced by the scripts: find a Python ≥ 3.12 (Django 6.1 needs it) and make .venv with it.
# Machines here default to 3.11; pyenv keeps 3.12/3.13 beside it.
find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 \
      "$HOME/.pyenv/versions/3.13.0/bin/python" "$HOME/.pyenv/versions/3.12.1/bin/python" \
      /root/.pyenv/versions/3.13.0/bin/python /root/.pyenv/versions/3.12.1/bin/python python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "No Python >= 3.12 found; set PYTHON=/path/to/python3.12" >&2
  return 1
}

ensure_venv() {
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    rm -rf .venv
    "$(find_python)" -m venv .venv
  fi
  # Reproducible: exact versions from requirements.lock; the project itself is not installed.
  if ! cmp -s requirements.lock .venv/.installed-lock 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
    cp requirements.lock .venv/.installed-lock
  fi
}
