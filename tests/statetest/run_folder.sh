#!/bin/sh
# Runs `bp statetest` over fixture folders or files; skips (exit 77) when the
# official fixtures are not checked out beside the project.
# usage: run_folder.sh BP PATH...
bp=$1
shift
for path in "$@"; do
    if [ ! -e "$path" ]; then
        echo "skip: $path is absent (the official state tests live in ../shared/fixtures)"
        exit 77
    fi
done
exec "$bp" statetest "$@"
