#!/bin/sh
# Runs `bp statetest` over one fixture folder; skips (exit 77) when the
# official fixtures are not checked out beside the project.
# usage: run_folder.sh BP FOLDER
bp=$1
folder=$2
if [ ! -d "$folder" ]; then
    echo "skip: $folder is absent (the official state tests live in ../shared/fixtures)"
    exit 77
fi
exec "$bp" statetest "$folder"
