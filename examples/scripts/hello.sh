#!/bin/sh
# Reads the request body from INPUT_FILE_PATH and writes the answer to stdout.
set -eu
printf 'Hello, %s! (from %s on %s)\n' "$(cat "$INPUT_FILE_PATH")" "$OSCAR_SERVICE_NAME" "$(uname -s)"
