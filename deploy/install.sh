#!/usr/bin/env bash
# install.sh: install wraft on a Raspberry Pi (or any Linux host) over ssh.
#
#   deploy/install.sh [-e ENVFILE] [-t TLSDIR] USER@HOST
#
# Copies the release binary for the host's architecture (from dist/, as
# `make release` builds it: arm64 for aarch64, armv7 for armv7l, armv6 for
# armv6l, amd64 for x86_64) to /usr/local/bin/wraft, creates the wraft user,
# installs deploy/wraft.service and ENVFILE as /etc/wraft/wraft.env (the
# example if none was given and none is there), and TLSDIR's ca.crt,
# node.crt and node.key as /etc/wraft/tls/. Then it enables and (re)starts
# the service. Needs ssh access with sudo on HOST.
set -euo pipefail

usage() { echo "usage: $0 [-e ENVFILE] [-t TLSDIR] USER@HOST" >&2; exit 2; }
envfile="" tlsdir=""
while getopts "e:t:h" opt; do
  case $opt in
    e) envfile=$OPTARG ;;
    t) tlsdir=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
host=$1
here=$(cd "$(dirname "$0")" && pwd)
dist=${DIST:-$here/../dist}

arch=$(ssh "$host" uname -m)
case $arch in
  aarch64 | arm64) bin=wraft-linux-arm64 ;;
  armv7l) bin=wraft-linux-armv7 ;;
  armv6l) bin=wraft-linux-armv6 ;;
  x86_64) bin=wraft-linux-amd64 ;;
  *) echo "install.sh: no wraft build for $host's architecture $arch" >&2; exit 1 ;;
esac
[ -f "$dist/$bin" ] || { echo "install.sh: $dist/$bin is missing: run make release" >&2; exit 1; }
(cd "$dist" && grep " $bin\$" SHA256SUMS | sha256sum -c --quiet -) || { echo "install.sh: $dist/$bin does not match SHA256SUMS" >&2; exit 1; }
case $arch in armv6l | armv7l)
  echo "note: $host runs a 32-bit OS; wazero has no compiler there and interprets raft.wasm (tens of times slower)."
  echo "      A 64-bit OS is recommended (the Pi Zero 2 W, 3, 4 and 5 all run arm64)." ;;
esac

tmp=$(ssh "$host" mktemp -d)
trap 'ssh "$host" rm -rf "$tmp"' EXIT
scp -q "$dist/$bin" "$here/wraft.service" "$here/wraft.env.example" "$host:$tmp/"
[ -z "$envfile" ] || scp -q "$envfile" "$host:$tmp/wraft.env"
if [ -n "$tlsdir" ]; then
  scp -q "$tlsdir/ca.crt" "$tlsdir/node.crt" "$tlsdir/node.key" "$host:$tmp/"
fi

echo "== installing $bin on $host ($arch)"
ssh "$host" sudo bash -euo pipefail -s -- "$tmp" "$bin" <<'REMOTE'
tmp=$1 bin=$2
id wraft >/dev/null 2>&1 || useradd --system --home-dir /var/lib/wraft --shell /usr/sbin/nologin wraft
for g in gpio spi; do getent group $g >/dev/null || groupadd --system $g; done
install -m 0755 "$tmp/$bin" /usr/local/bin/wraft
install -m 0644 "$tmp/wraft.service" /etc/systemd/system/wraft.service
install -d -m 0750 -o root -g wraft /etc/wraft
if [ -f "$tmp/wraft.env" ]; then
  install -m 0640 -g wraft "$tmp/wraft.env" /etc/wraft/wraft.env
elif [ ! -f /etc/wraft/wraft.env ]; then
  install -m 0640 -g wraft "$tmp/wraft.env.example" /etc/wraft/wraft.env
  echo "edit /etc/wraft/wraft.env (WRAFT_ID, WRAFT_PEERS), then: sudo systemctl restart wraft"
fi
if [ -f "$tmp/node.key" ]; then
  install -d -m 0750 -o root -g wraft /etc/wraft/tls
  install -m 0644 "$tmp/ca.crt" "$tmp/node.crt" /etc/wraft/tls/
  install -m 0640 -g wraft "$tmp/node.key" /etc/wraft/tls/
fi
install -d -m 0750 -o wraft -g wraft /var/lib/wraft /var/lib/wraft/cores
systemctl daemon-reload
systemctl enable --quiet wraft
systemctl restart wraft
/usr/local/bin/wraft version
REMOTE
echo "== $host: wraft installed; follow it with: ssh $host journalctl -fu wraft"
