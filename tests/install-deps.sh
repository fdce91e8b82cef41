#!/bin/sh
# install-deps.sh: `make deps`.  Installs from Debian exactly the packages
# that are missing; a no-op (no apt-get at all) when everything is there.
pkgs="gcc make pkg-config libjq-dev jq libcurl4-openssl-dev libsqlite3-dev
sqlite3 bats bats-assert bats-support mandoc python3 ca-certificates
python3-scipy python3-statsmodels curl bsdextrautils
python3-sklearn python3-xgboost"
missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "make deps: not root; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q && apt-get install -y -q --no-install-recommends $missing
