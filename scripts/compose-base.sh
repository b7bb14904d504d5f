#!/usr/bin/env bash
# Print the base image for compose/Dockerfile: python:3.11-slim-bookworm when it is here or can be
# pulled; otherwise (a machine without a registry) a Debian bookworm image built locally with
# debootstrap from Debian's packages, trusting the same CAs as this host (for a TLS proxy to PyPI).
set -euo pipefail
PUBLIC=python:3.11-slim-bookworm
LOCAL=dragonfly-py/base:bookworm
if docker image inspect "$PUBLIC" >/dev/null 2>&1 || docker pull -q "$PUBLIC" >/dev/null 2>&1; then
  echo "$PUBLIC"
  exit 0
fi
if ! docker image inspect "$LOCAL" >/dev/null 2>&1; then
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
  fi
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase --include=python3,python3-venv,python3-dev,gcc,libc6-dev,ca-certificates \
    bookworm "$rootfs" http://deb.debian.org/debian >&2
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$rootfs" update-ca-certificates >&2
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV LANG=C.UTF-8' - "$LOCAL" >&2
fi
echo "$LOCAL"
