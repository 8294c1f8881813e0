#!/usr/bin/env bash
# Creates a Python virtual environment with python-dbusmock in it, for the BLE tests that
# run btleplug against dbusmock's `bluez5` template on a private system bus.
#
# Usage: dbusmock-venv.sh <venv-dir>      (prints the venv's python on success)
#
# python-dbusmock needs dbus-python, which PyPI ships only as source; building it needs the
# dbus-1 and glib-2.0 headers. When pkg-config cannot find them, the headers are taken from
# the distribution's -dev packages, downloaded (not installed) with `apt-get download` and
# unpacked inside the venv directory, so the machine itself is left unchanged.
# Every failure (no network, no pip, no apt) exits non-zero with a message: the tests that
# call this fail loudly instead of skipping.
set -euo pipefail

venv="${1:?usage: dbusmock-venv.sh <venv-dir>}"
python="${PYTHON:-python3}"

fail() { echo "dbusmock-venv: $*" >&2; exit 1; }

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import dbusmock, dbus.mainloop.glib' 2>/dev/null; then
    echo "$venv/bin/python"
    exit 0
fi

"$python" -m venv "$venv" || fail "could not create a virtual environment with $python (is python3-venv there?)"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)

if ! pkg-config --exists dbus-1 glib-2.0 2>/dev/null; then
    command -v apt-get >/dev/null || fail "dbus-1/glib-2.0 headers missing and no apt-get to fetch them; install libdbus-1-dev and libglib-2.0-dev"
    sysroot="$venv/sysroot"
    debs="$venv/debs"
    mkdir -p "$sysroot" "$debs"
    pkgs="libdbus-1-dev libglib2.0-dev libpcre2-dev libffi-dev zlib1g-dev libmount-dev libselinux1-dev libblkid-dev libsepol-dev"
    # A fresh machine may have no package lists yet: refresh them once and try again.
    (cd "$debs" && apt-get download -q $pkgs >&2) \
        || { apt-get update -q >&2 && (cd "$debs" && apt-get download -q $pkgs >&2); } \
        || fail "apt-get download of the dbus/glib -dev packages failed (no network or no package lists)"
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
    multiarch="$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
    pcdir="$sysroot/usr/lib/$multiarch/pkgconfig"
    libdir="$sysroot/usr/lib/$multiarch"
    # The .pc files name /usr; point them at the unpacked tree.
    sed -i "s|=/usr|=$sysroot/usr|" "$pcdir"/*.pc "$sysroot"/usr/share/pkgconfig/*.pc 2>/dev/null || true
    # The -dev packages' unversioned .so links point at runtime libraries installed on the
    # system, not unpacked here: link them to the system copies.
    for link in "$libdir"/*.so; do
        [ -L "$link" ] || continue
        target="$(readlink "$link")"
        for dir in "/lib/$multiarch" "/usr/lib/$multiarch"; do
            if [ -e "$dir/$(basename "$target")" ]; then ln -sf "$dir/$(basename "$target")" "$link"; break; fi
        done
    done
    export PKG_CONFIG_PATH="$pcdir:$sysroot/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export LIBRARY_PATH="$libdir${LIBRARY_PATH:+:$LIBRARY_PATH}"
fi

"${pip[@]}" install python-dbusmock >&2 \
    || fail "pip install python-dbusmock failed (PyPI unreachable, or dbus-python did not build: see above)"
"$venv/bin/python" -c 'import dbusmock, dbus.mainloop.glib' \
    || fail "python-dbusmock installed but does not import"
echo "$venv/bin/python"
