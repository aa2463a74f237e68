#!/bin/sh
# Builds the Winograd harness (the kernel harness build with its own main).
# Usage (from the repository root): sh native/cpu/winograd/tests/build.sh [output=/tmp/winograd_test]
exec sh native/cpu/tests/build.sh "${1:-/tmp/winograd_test}" native/cpu/winograd/tests/winograd_test.cc
