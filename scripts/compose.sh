#!/usr/bin/env bash
# docker-compose on compose/docker-compose.yml with a usable base image: ./scripts/compose.sh up --build -d
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_IMAGE=${BASE_IMAGE:-$(./scripts/compose-base.sh)}
export BASE_IMAGE
exec docker-compose -f compose/docker-compose.yml "$@"
