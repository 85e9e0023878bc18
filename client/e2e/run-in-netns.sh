#!/bin/sh
# Runs the browser tests in a network namespace of their own whose only interface is `lo`, so
# that Redis, the nodes, the load balancers, Chromium and every WebRTC packet stay on loopback
# (filtering ICE candidates is not enough: Chromium pairs other interfaces with a peer's
# loopback candidate). As root: `unshare -n`; otherwise a user namespace maps us to root in it.
set -eu
cd "$(dirname "$0")/.."
# One file at a time: sfu.test.js adds a veth for Janus (which skips loopback) while it runs, and
# the mesh tests check that every call stays on loopback.
inside='ip link set lo up && exec node --test --test-concurrency=1 --test-reporter=spec e2e/*.test.js'
if [ "$(id -u)" -eq 0 ]; then
  exec unshare --net -- sh -c "$inside"
else
  exec unshare --map-root-user --net -- sh -c "$inside"
fi
