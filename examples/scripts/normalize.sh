#!/bin/sh
# One word per line, lower case, punctuation dropped.
set -eu
name=$(basename "$INPUT_FILE_PATH")
echo "normalize: $STORAGE_OBJECT_KEY ($(wc -c < "$INPUT_FILE_PATH") bytes)"
tr '[:upper:]' '[:lower:]' < "$INPUT_FILE_PATH" | tr -cs '[:alnum:]' '\n' | sed '/^$/d' > "$TMP_OUTPUT_DIR/${name%.*}.words"
