#!/bin/sh
# Chromium (browser tests) and PostgreSQL (the PostgreSQL gradebook tests): the only parts of the test
# suite that pip cannot install. Installs the missing ones with the system's package manager (apt-get)
# when it runs as root or `sudo -n` works; otherwise prints one line and installs nothing.
# Exit status 0, also when it cannot install; 1 when an install was tried and failed, unless
# --best-effort (what `make test` passes: the tests that need a missing part then skip and the run's
# "NOT TESTED" block names them).
# NABLAKIT_CHROMIUM names the Chromium to use, as in tests/browser/lab.py.
set -u
best_effort=0
[ "${1:-}" = "--best-effort" ] && best_effort=1

have_chromium() {
    if [ -n "${NABLAKIT_CHROMIUM:-}" ]; then
        [ -x "$NABLAKIT_CHROMIUM" ]
        return
    fi
    [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

have_postgresql() {
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$initdb" ] && return 0
    done
    return 1
}

missing() {
    out=""
    have_chromium || out="Chromium"
    have_postgresql || out="${out:+$out and }PostgreSQL"
    echo "$out"
}

need=$(missing)
if [ -z "$need" ]; then
    echo "system-deps: Chromium and PostgreSQL are installed"
    exit 0
fi
skipped="their tests will be skipped"
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    sudo="sudo -n"
else
    echo "system-deps: $need not installed, and no rights to install them (not root, no password-less sudo): $skipped; run \`sudo make system-deps\`"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: $need not installed, and no apt-get here: install them with your package manager; $skipped"
    exit 0
fi

log=$(mktemp "${TMPDIR:-/tmp}/system-deps.XXXXXX")
apt() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$log" 2>&1; }
# Debian's browser is `chromium`; Ubuntu has only `chromium-browser`, a package that installs the snap.
candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }

echo "system-deps: installing $need with apt-get (log: $log)"
packages=""
if apt -qq update; then
    if ! have_chromium; then
        if candidate chromium; then
            packages="chromium"
        elif candidate chromium-browser; then
            packages="chromium-browser"
        else
            echo "system-deps: no chromium package in this system's apt sources" >>"$log"
        fi
    fi
    have_postgresql || packages="$packages postgresql"
    [ -n "$packages" ] && apt -y -qq install $packages
fi
still=$(missing)
if [ -z "$still" ]; then
    echo "system-deps: $need installed"
    rm -f "$log"
    exit 0
fi
echo "system-deps: $still could not be installed ($skipped); the end of $log:"
tail -n 5 "$log" | sed 's/^/  /'
[ "$best_effort" = 1 ] && exit 0
exit 1
