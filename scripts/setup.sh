#!/usr/bin/env bash
# Set up faxprint on a fresh Debian/Ubuntu machine, as root, then run it or test it.
#
#   bash scripts/setup.sh run    install, then start the sandbox FaxOut server (Ctrl-C stops it)
#   bash scripts/setup.sh test   install with the test tools, then run every check and test
#   bash scripts/setup.sh bench  install with the test tools, then run the benchmarks
#                                (bench/README.md; arguments go to python -m bench)
#   bash scripts/setup.sh install  install only
#
# faxprint goes into a virtual environment in $FAXPRINT_PREFIX (default /opt/faxprint), built on
# Debian's /usr/bin/python3: the CUPS backend runs as user lp, which must be able to reach the
# interpreter (a Python under /root, such as pyenv's, is out of its reach).
set -euo pipefail

mode=${1:-run}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${FAXPRINT_PREFIX:-/opt/faxprint}
venv=$prefix/venv
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '\n== %s\n' "$*"; }

install_system_packages() {
    # fonts-dejavu-core: the cover pages' font (Latin, Greek, Cyrillic, Arabic, Hebrew)
    local packages=(cups cups-client cups-bsd cups-filters ghostscript poppler-utils qpdf
                    fonts-dejavu-core fontconfig libpq5 libcups2-dev gcc python3 python3-venv
                    python3-dev "$@")
    local missing=()
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$package")
    done
    if ((${#missing[@]})); then
        say "installing Debian packages: ${missing[*]}"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

install_faxprint() {
    local extras=$1
    say "installing faxprint$extras into $venv"
    [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q "$repo$extras"
    chmod -R go+rX "$prefix"
    ln -sf "$venv/bin/faxprint" /usr/local/bin/faxprint
    install -D -m 0644 "$repo/docs/faxprint.1" /usr/local/share/man/man1/faxprint.1
    if [ -d /etc/bash_completion.d ]; then
        "$venv/bin/faxprint" completion bash > /etc/bash_completion.d/faxprint
    fi
}

if [ "$(id -u)" != 0 ]; then
    echo "run this as root (it installs Debian packages): sudo bash $0 $mode" >&2
    exit 1
fi

case $mode in
install)
    install_system_packages
    install_faxprint "[cups]"
    ;;
run)
    install_system_packages
    install_faxprint "[cups]"
    store=${FAXPRINT_SANDBOX_STORE:-/var/lib/faxprint/sandbox}
    say "starting the sandbox FaxOut server (faxes are stored in $store)"
    cat <<EOF
faxprint runs on its embedded default: the sandbox below and the journal in
/var/spool/faxprint. In another terminal, send a fax to it:

    faxprint send --to '5556465589|Jane Doe' $repo/README.md

then look in $store. README.md explains how to add the "Fax" printer and a real account.
EOF
    umask 077  # the stored faxes are documents: for root only
    exec "$venv/bin/faxprint" sandbox --store "$store"
    ;;
test)
    # faketime: the fault campaign jumps the backend's clock; curl and time: the benchmarks;
    # chromium and its driver: the outbox's browser tests (no browser download);
    # fonts-wqy-microhei: a Chinese font, for the covers' test of a fallback font;
    # postgresql: the tests start a private server (a Unix socket only) for the journal
    install_system_packages faketime curl time chromium chromium-driver fonts-wqy-microhei \
        postgresql
    install_faxprint "[test]"
    cd "$repo"
    say "ruff"
    "$venv/bin/ruff" check faxprint tests bench scripts
    "$venv/bin/ruff" format --check faxprint tests bench scripts
    say "mypy"
    "$venv/bin/mypy"
    say "pytest (starts its own private cupsd and sandbox servers, stops them by PID)"
    "$venv/bin/python" -m pytest "${@:2}"
    if [ $# -le 1 ]; then
        say "benchmarks, quick: each one runs (the numbers need the full run: setup.sh bench)"
        "$venv/bin/python" -m bench --quick
    fi
    ;;
bench)
    # faxprint as a print server runs it ([cups] only: no test tools, whose extra packages
    # change start-up times), in a virtual environment of its own.
    install_system_packages curl time
    bench_venv=$prefix/bench-venv
    say "installing faxprint[cups] into $bench_venv"
    [ -x "$bench_venv/bin/python" ] || /usr/bin/python3 -m venv "$bench_venv"
    "$bench_venv/bin/python" -m pip install -q --upgrade pip
    "$bench_venv/bin/python" -m pip install -q "$repo[cups]"
    chmod -R go+rX "$bench_venv"  # the cupsd benchmark's backends run as lp
    cd "$repo"
    say "benchmarks (about 6 minutes; starts a private cupsd and sandbox servers)"
    exec "$bench_venv/bin/python" -m bench "${@:2}"
    ;;
*)
    echo "usage: $0 run|test|bench|install" >&2
    exit 64
    ;;
esac
