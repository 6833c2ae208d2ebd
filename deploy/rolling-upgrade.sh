#!/usr/bin/env bash
# rolling-upgrade.sh: put a new raft.wasm on every node, one at a time,
# without taking the cluster down.
#
#   deploy/rolling-upgrade.sh RAFT_WASM USER@HOST...
#
# For each host in turn: copy RAFT_WASM (about 2.2 MB, 0.65 MB gzipped on the
# wire) to /var/lib/wraft/cores/raft-<sha256>.wasm, point WRAFT_CORE in
# /etc/wraft/wraft.env at it, restart the node (it recovers its state from its
# write-ahead log, and compiles the new core once into its cache), and wait
# until `wraft status` says it is back, healthy, in a cluster with a leader,
# before going on to the next. A node refuses a raft.wasm whose ABI version
# it does not speak: it exits at start with "unsupported ABI version" and
# the script stops there, with the other nodes still on the old core (put
# the old WRAFT_CORE back on that node: it is printed). Give the hosts with
# followers first and the leader last to move leadership only once.
#
# Environment: API (default 127.0.0.1:8001: the node's WRAFT_API as seen on
# the node itself), TIMEOUT (seconds to wait for each node, default 120).
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 RAFT_WASM USER@HOST..." >&2; exit 2; }
wasm=$1; shift
api=${API:-127.0.0.1:8001}
timeout=${TIMEOUT:-120}
[ -f "$wasm" ] || { echo "rolling-upgrade: $wasm: no such file" >&2; exit 1; }
sum=$(sha256sum "$wasm" | cut -d' ' -f1)
target=/var/lib/wraft/cores/raft-$sum.wasm
echo "== rolling out raft.wasm sha256:$sum to $# nodes"

for host in "$@"; do
  echo "== $host"
  old=$(ssh "$host" "sudo sed -n 's/^WRAFT_CORE=//p' /etc/wraft/wraft.env")
  echo "   core was: ${old:-wasm}"
  gzip -9c "$wasm" | ssh -C "$host" "sudo install -d -m 0750 -o wraft -g wraft /var/lib/wraft/cores &&
    gunzip -c | sudo tee $target.tmp >/dev/null &&
    echo '$sum  $target.tmp' | sha256sum -c --quiet - &&
    sudo chown wraft:wraft $target.tmp && sudo mv $target.tmp $target"
  ssh "$host" "sudo sed -i '/^WRAFT_CORE=/d' /etc/wraft/wraft.env && echo 'WRAFT_CORE=$target' | sudo tee -a /etc/wraft/wraft.env >/dev/null &&
    sudo systemctl restart wraft"
  deadline=$((SECONDS + timeout))
  until line=$(ssh "$host" "wraft status --endpoints http://$api 2>/dev/null | sed -n 2p") &&
        [ "$(awk '{print $9}' <<<"$line")" = ok ] &&
        ssh "$host" "curl -fsS http://$api/v1/status" | grep -q "\"core\": *\"wasm sha256:$sum\""; do
    if ! ssh "$host" systemctl is-active --quiet wraft; then
      echo "rolling-upgrade: wraft on $host stopped with the new core:" >&2
      ssh "$host" "journalctl -u wraft -n 5 --no-pager" >&2 || true
      echo "rolling-upgrade: stopped; restore it with WRAFT_CORE=${old:-wasm} in /etc/wraft/wraft.env" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "rolling-upgrade: $host did not rejoin within ${timeout}s (last status: ${line:-none}); stopped" >&2
      exit 1
    fi
    sleep 2
  done
  echo "   back: $line"
done
echo "== done: every node runs raft.wasm sha256:$sum"
