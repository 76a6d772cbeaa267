#!/bin/sh
# The 20 most frequent words of a .words file, as CSV (word,count).
set -eu
name=$(basename "$INPUT_FILE_PATH")
echo "count: $STORAGE_OBJECT_KEY"
{
  echo "word,count"
  sort "$INPUT_FILE_PATH" | uniq -c | sort -k1,1nr -k2 | head -n 20 | awk '{ print $2 "," $1 }'
} > "$TMP_OUTPUT_DIR/${name%.*}.csv"
