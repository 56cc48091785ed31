#!/usr/bin/env bash
# Regenerate the initial migration of the given apps (pre-release only: no database has been
# deployed yet, so 0001_initial can follow the models). Hand-written later migrations (such as
# core/0002, the audit trigger) are kept.  Usage: scripts/remigrate.sh core accounts trace
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
for app in "$@"; do
  rm -f "src/medvigil/$app/migrations/0001_initial.py"
  for f in src/medvigil/"$app"/migrations/0*.py; do
    [ -e "$f" ] && mv "$f" "$tmp/$app--$(basename "$f")"
  done
done
MEDVIGIL_DEV=1 .venv/bin/medvigil makemigrations "$@" -v1
for f in "$tmp"/*; do
  [ -e "$f" ] || continue
  name=${f##*/}; app=${name%%--*}
  mv "$f" "src/medvigil/$app/migrations/${name#*--}"
done
rmdir "$tmp"
