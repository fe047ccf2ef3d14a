# shellcheck shell=bash
# Shared by deploy/run and deploy/test (sourced, not run): find Python 3.11 or newer, make the
# virtualenv under the checkout and install the project into it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WORLDBOOK_VENV:-$ROOT/.venv}"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    if [ -x "$VENV/bin/python" ]; then
        return 0
    fi
    local python
    python="$(find_python)" || die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"
    if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
        # Debian and Ubuntu ship venv's pip bootstrap in a separate package.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "Installing python3-venv (Debian package)"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
                || { apt-get update -qq >/dev/null \
                     && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; } \
                || die "could not install python3-venv"
        else
            die "$python cannot create a virtualenv: run 'sudo apt-get install python3-venv' first"
        fi
    fi
    say "Creating the virtualenv in $VENV ($("$python" --version))"
    "$python" -m venv "$VENV"
}

# install_project EXTRAS: pip-install the checkout (editable) with EXTRAS ("" or "[test]").
# Skipped when pyproject.toml and EXTRAS are unchanged since the last install, so a restart
# does not wait for pip.
install_project() {
    local extras="$1" stamp want
    stamp="$VENV/.worldbook-installed"
    want="$(cat "$ROOT/pyproject.toml" - <<<"$extras" | "$VENV/bin/python" -c \
        'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
    if [ -f "$stamp" ] && grep -qx "$want" "$stamp"; then
        say "Dependencies are up to date"
        return 0
    fi
    if [ -f "$stamp" ]; then
        say "Installing Worldbook$extras and its dependencies again: pyproject.toml changed (pip)"
    else
        say "Installing Worldbook$extras and its dependencies (pip; the first time this downloads every package and can take a few minutes)"
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT$extras"
    say "Installed"
    printf '%s\n' "$want" >>"$stamp"
}

# ensure_number_hash_keys: when NUMBER_HASH_KEYS is unset and DATABASE_URL names a database
# other than the embedded SQLite one (where the settings derive a key from SECRET_KEY), read
# it from $WORLDBOOK_VAR_DIR/number_hash_keys, generating "1:<secret>" there the first time,
# and export it. A production deployment sets it from its secret store instead.
ensure_number_hash_keys() {
    if [ -n "${NUMBER_HASH_KEYS:-}" ] || [ -z "${DATABASE_URL:-}" ]; then
        return 0
    fi
    case "$DATABASE_URL" in
        sqlite:*) return 0 ;;
    esac
    local key_file="$WORLDBOOK_VAR_DIR/number_hash_keys"
    if [ ! -s "$key_file" ]; then
        say "Generating a phone-number hash key in $key_file"
        (umask 077 && "${VENV}/bin/python" -c \
            'import secrets; print("1:" + secrets.token_urlsafe(32))' >"$key_file")
    fi
    NUMBER_HASH_KEYS="$(cat "$key_file")"
    export NUMBER_HASH_KEYS
}
