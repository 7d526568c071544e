#!/usr/bin/env bash
# A second Docker engine beside the first, for the tests of several engines (issue 14): its own
# bridge, data and exec roots, listening on unix:///run/hwb-docker2.sock, with the build image
# loaded from the first engine (skipped when it holds the same image already). Safe to run again.
set -euo pipefail
SOCK=/run/hwb-docker2.sock
IMAGE=hwb-test/manylinux:latest
if ! /usr/bin/docker -H "unix://$SOCK" info >/dev/null 2>&1; then
  # Never --bridge none: that deletes the first engine's docker0.
  if ! ip link show hwb-br2 >/dev/null 2>&1; then
    ip link add hwb-br2 type bridge
    ip addr add 172.29.0.1/16 dev hwb-br2
    ip link set hwb-br2 up
  fi
  setsid nohup dockerd --data-root /var/lib/hwb-docker2 --exec-root /run/hwb-docker2 \
    -H "unix://$SOCK" --pidfile /run/hwb-docker2.pid --bridge hwb-br2 \
    --iptables=false --ip6tables=false >/var/log/hwb-docker2.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do /usr/bin/docker -H "unix://$SOCK" info >/dev/null 2>&1 && break; sleep 0.5; done
  /usr/bin/docker -H "unix://$SOCK" info >/dev/null 2>&1 \
    || { echo "the second dockerd did not start; see /var/log/hwb-docker2.log" >&2; exit 1; }
fi
want=$(/usr/bin/docker image inspect -f '{{.Id}}' "$IMAGE")
have=$(/usr/bin/docker -H "unix://$SOCK" image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "[setup] loading $IMAGE into the second engine" >&2
  /usr/bin/docker save "$IMAGE" | /usr/bin/docker -H "unix://$SOCK" load -q >/dev/null
fi
