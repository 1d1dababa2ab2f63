#!/usr/bin/env bash
set -euo pipefail

echo "Files in $(pwd), by extension:"
find . -type f -not -path '*/.*' | sed -n 's/.*\.\([^./]*\)$/\1/p' | sort | uniq -c | sort -rn
