#!/usr/bin/env bash
# Install the Debian packages the harness needs, only those not yet installed.
# usage: deps.sh [PACKAGE...]   (without arguments: the harness's own list)
set -euo pipefail

pkgs=(build-essential bc bison flex libelf-dev libssl-dev cpio kmod rsync xz-utils
      git qemu-system-x86 debian-archive-keyring gcc-aarch64-linux-gnu
      pkg-config libdrm-dev)
[ $# -eq 0 ] || pkgs=("$@")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "vmtest: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
	command -v sudo >/dev/null || {
		echo "vmtest: error: need root to install: ${missing[*]}" >&2; exit 1; }
else
	SUDO=
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >/dev/null
