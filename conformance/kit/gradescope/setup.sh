#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 unless
# the assignment picks another base image). It installs the toolchains students may write their
# echo programs in and checks that the harness runs. Trim PACKAGES to the languages your course
# allows: every package here makes the image build slower.
#
#   ECHO_LAB_SKIP_INSTALL=1  skip apt-get (a machine that has the toolchains already)
#   AUTOGRADER_ROOT=DIR      use DIR instead of /autograder (to try the autograder locally)
set -euo pipefail

PACKAGES="python3 build-essential cmake default-jdk-headless golang-go rustc cargo nodejs"
SOURCE="${AUTOGRADER_ROOT:-/autograder}/source"

if [ "${ECHO_LAB_SKIP_INSTALL:-0}" = 1 ]; then
  echo "setup.sh: skipping apt-get (ECHO_LAB_SKIP_INSTALL=1)"
else
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # shellcheck disable=SC2086  # one word per package
  apt-get install -y --no-install-recommends $PACKAGES
  # The harness needs Python 3.11 or newer; Ubuntu 22.04's python3 is 3.10.
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y --no-install-recommends python3.11
  fi
fi

# The short-count and EINTR shim, for the short-writes cases (without it they are skipped, and
# every score line says so).
mkdir -p "$SOURCE/lib"
if command -v c++ >/dev/null; then
  c++ -std=c++20 -O2 -shared -fPIC -o "$SOURCE/lib/libshort_io_shim.so" "$SOURCE/shim/short_io_shim.cpp" -ldl
else
  echo "setup.sh: no c++ compiler: the short-writes cases will be skipped" >&2
fi

chmod +x "$SOURCE/run_autograder"
"$SOURCE/run_autograder" --check
