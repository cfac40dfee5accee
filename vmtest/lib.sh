# shellcheck shell=bash
# Common settings and helpers for the vmtest scripts; sourced, never run.

VMTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$VMTEST_DIR")
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vb2-resv}
PATCHES=${PATCHES:-$REPO_DIR/patches}
BASE_VERSION=$(cat "$VMTEST_DIR/base-version")
# The base's kernel version (7.3.4), its series (7.3) and Debian's source
# package of that series (linux-source-7.3).
BASE_KVER=${BASE_VERSION%%-*}
BASE_SERIES=${BASE_KVER%.*}
SRC_PKG=linux-source-$BASE_SERIES
TREE=$CACHE/tree
# KERNEL_FLAVOR=bench: the benchmark kernel, the test kernel without its
# debug options (make bench), built and staged beside it.
if [ "${KERNEL_FLAVOR:-}" = bench ]; then
	BUILD=$CACHE/build-x86_64-bench
	STAGE=$CACHE/stage-bench
else
	BUILD=$CACHE/build-x86_64
	STAGE=$CACHE/stage
fi
JOBS=${JOBS:-$(nproc)}
# Guest-physical address of the RK3399 model's registers: run-vm.sh keeps
# 128 KiB there from the guest kernel (memmap=), 64 KiB aligned, below 4 GiB.
MODEL_REGS=0x40000000

# The Debian packages that check-packaging.sh and send-prep.sh run.
# shellcheck disable=SC2034  # used by the scripts that source this file
PACKAGING_DEBS=(makepkg pacman-package-manager libarchive-tools file patch xz-utils zstd rsync
	make gcc bc bison flex gcc-aarch64-linux-gnu debian-archive-keyring busybox-static)
# shellcheck disable=SC2034
SEND_DEBS=(git python3 python3-pygit2 python3-dkim python3-dnspython python3-requests
	python3-nacl git-filter-repo)

say() { printf 'vmtest: %s\n' "$*" >&2; }
die() { printf 'vmtest: error: %s\n' "$*" >&2; exit 1; }

# Kernel "VERSION.PATCHLEVEL.SUBLEVEL" of the source tree in $1.
tree_kernelversion() {
	awk -F' *= *' '/^VERSION/ {v=$2} /^PATCHLEVEL/ {p=$2}
		/^SUBLEVEL/ {s=$2; print v "." p "." s; exit}' "$1/Makefile"
}

# The patches of the series in order, without the cover letters: the
# sw_sync fix its tests need (sent to dma-buf on its own), the fixes it
# depends on, the series, then its follow-ups for rkvdec and vim2m (they
# are independent of each other).
series_patches() {
	local d
	for d in "$PATCHES/sw_sync" "$PATCHES/fixes" "$PATCHES" "$PATCHES/rkvdec" "$PATCHES/vim2m"; do
		find "$d" -maxdepth 1 -name '*.patch' ! -name '0000-*' 2>/dev/null | sort
	done
}

# series_digest: each patch of series_patches, named from patches/ whatever
# the directory $PATCHES is, and its contents' hash: the same series gives
# the same lines in any clone.
series_digest() {
	local p
	series_patches | while IFS= read -r p; do
		printf '%s ' "patches/${p#"$PATCHES"/}"
		sha256sum <"$p"
	done
}

# tap FILE RC DESCRIPTION: append a TAP line to FILE, ok when RC is 0.
tap() {
	local n
	n=$(($(grep -cE '^(not )?ok ' "$1" 2>/dev/null || true) + 1))
	if [ "$2" -eq 0 ]; then
		echo "ok $n $3" | tee -a "$1"
	else
		echo "not ok $n $3" | tee -a "$1"
	fi
}

# repo_digest: one hash of every file of the repository (tracked, or
# untracked and not ignored) and of the series in $PATCHES, by content;
# empty outside a git checkout.
repo_digest() {
	git -C "$REPO_DIR" rev-parse --git-dir >/dev/null 2>&1 || return 0
	{
		(cd "$REPO_DIR" && git ls-files -z -co --exclude-standard | sort -z |
			xargs -0 -r sha256sum)
		series_digest
	} | sha256sum | cut -d' ' -f1
}

# inputs_key FN: one hash of repo_digest and of what the function FN prints
# (the other inputs of a check: tool versions, cached downloads); empty
# outside a git checkout.
inputs_key() {
	local repo
	repo=$(repo_digest)
	[ -n "$repo" ] || return 0
	{ echo "$repo"; "$1"; } | sha256sum | cut -d' ' -f1
}

# passed_replay DIR KEY TAP-FILE WHAT: if DIR keeps a passing run's test
# descriptions under KEY (passed_store), append them to TAP-FILE as passes,
# say so ("WHAT since the passing run of <date>"), and succeed. REUSE=0 in
# the environment: never (every check runs whole).
passed_replay() {
	local dir=$1 key=$2 tapfile=$3 what=$4 desc
	[ "${REUSE:-1}" != 0 ] && [ -n "$key" ] && [ "$(cat "$dir/key" 2>/dev/null)" = "$key" ] && [ -s "$dir/tap" ] ||
		return 1
	say "$what since the passing run of $(date -r "$dir/key" '+%F %T'):" \
		"its results, from the cache"
	while IFS= read -r desc; do
		tap "$tapfile" 0 "$desc"
	done <"$dir/tap"
}

# passed_store DIR KEY: keep the test descriptions on stdin, one a line, as
# those of a passing run under KEY.
passed_store() {
	mkdir -p "$1"
	cat >"$1/tap"
	echo "$2" >"$1/key"
}

# reuse_passed NAME INPUTS-FN TAP-FILE CMD ARGS...: run CMD ARGS, a host
# check that appends TAP lines to TAP-FILE, unless its last run under NAME
# passed whole with the same inputs (inputs_key INPUTS-FN, which must cover
# everything the check reads): then that run's lines go to TAP-FILE again,
# and it says so. The key is taken again after a run, which may have
# installed what it reads; only a run without a failure is kept, and only
# if no file of the repository or the series changed while it ran (what ran
# would not be what the key says).
reuse_passed() {
	local name=$1 inputs=$2 tapfile=$3 dir=$CACHE/passed/$1 from key repo
	shift 3
	repo=$(repo_digest)
	key=$(inputs_key "$inputs")
	passed_replay "$dir" "$key" "$tapfile" "$name checks: nothing they read changed" &&
		return 0
	rm -rf "$dir"
	from=$(($(wc -l <"$tapfile") + 1))
	"$@" || return
	! tail -n +"$from" "$tapfile" | grep -q '^not ok ' || return 0
	if [ "$(repo_digest)" != "$repo" ]; then
		say "$name checks: the repository changed while they ran; their results are not kept"
		return 0
	fi
	key=$(inputs_key "$inputs")
	[ -n "$key" ] || return 0
	tail -n +"$from" "$tapfile" | sed -n 's/^ok [0-9]* //p' | passed_store "$dir" "$key"
}

# apt_private CMD ARGS...: run apt-get or apt-cache against Debian sid and
# trixie-backports with sources, lists and cache under $CACHE/apt, leaving the
# system's package state alone.  apt_private_update refreshes those lists.
apt_private() {
	local dir=$CACHE/apt cmd=$1
	shift
	"$cmd" -q -o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}
apt_private_update() {
	local dir=$CACHE/apt keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r "$keyring" ] || die "$keyring is missing: apt-get install debian-archive-keyring"
	mkdir -p "$dir/lists/partial" "$dir/archives/partial"
	cat > "$dir/sources.list" <<EOS
deb [signed-by=$keyring] http://deb.debian.org/debian sid main
deb [signed-by=$keyring] http://deb.debian.org/debian trixie-backports main
EOS
	apt_private apt-get update >/dev/null
}

# lock_cache: one run at a time per cache; a second run stops rather than
# mix its build or results with the first one's.  The lock is fd 9 of the
# script and lives as long as the last process that inherited it: anything
# that may outlive the command it was started by must not get it (cache_git).
lock_cache() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock -n 9 || die "another vmtest run is using $CACHE: wait for it, or set CACHE="
}

# cache_git DIR ARGS...: git in the cache's repository DIR, with the harness's
# identity.  git commit, am and fetch start "git gc --auto" (or maintenance)
# in the background once enough loose objects pile up, as the first import of
# a kernel tree does: it would inherit the cache lock and keep it for minutes
# after the command ended, so the next step would find the cache locked.  No
# automatic gc here, and fd 9 closed for git all the same.
cache_git() {
	git -C "$1" -c user.name=vmtest -c user.email=vmtest@localhost \
		-c gc.auto=0 -c maintenance.auto=false "${@:2}" 9>&-
}

# kconfig_from_fragment SRC BUILD FRAG LOG [MAKE-ARG...]: give the build
# directory BUILD of source tree SRC the config allnoconfig + FRAG, with
# MAKE-ARGs (ARCH=, CROSS_COMPILE=, -j) on every make.  Redone only when FRAG
# or SRC's Makefile changed, or the .config lost a line of FRAG (a Kconfig
# change seen by an earlier build).  Every CONFIG_ line of FRAG is checked
# after olddefconfig, so an option Kconfig drops for a missing dependency
# stops the run instead of silently building less.  Output goes to LOG.
kconfig_from_fragment() {
	local src=$1 build=$2 frag=$3 log=$4 key
	shift 4
	key=$(cat "$frag" "$src/Makefile" | sha256sum | cut -d' ' -f1)
	if [ -f "$build/.config" ] && [ "$(cat "$build/.vmtest-config-key" 2>/dev/null)" = "$key" ] &&
	   config_has_fragment "$build/.config" "$frag" 2>/dev/null; then
		return 0
	fi
	say "configuring $build from $(basename "$frag") (log: $log)"
	mkdir -p "$build" "$(dirname "$log")"
	rm -f "$build/.vmtest-config-key"
	if ! { make -C "$src" O="$build" "$@" allnoconfig &&
	       "$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$frag" &&
	       make -C "$src" O="$build" "$@" olddefconfig; } >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "configuring $build failed (whole log: $log)"
	fi
	config_has_fragment "$build/.config" "$frag" ||
		die "$(basename "$frag") does not survive olddefconfig: fix the dependencies above"
	echo "$key" > "$build/.vmtest-config-key"
}

# config_has_fragment CONFIG FRAG: every CONFIG_x=v line of FRAG holds in the
# .config file CONFIG (=n: unset); say each one that does not and return 1.
config_has_fragment() {
	local line sym val got bad=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*} val=${line#*=}
		got=$(grep -E "^$sym=" "$1" | cut -d= -f2- || true)
		[ "$val" = n ] && [ -z "$got" ] && continue
		[ "$got" = "$val" ] && continue
		say "config: $sym=$val requested, got ${got:-unset}"
		bad=1
	done <"$2"
	return $bad
}

# sid_unpack NAME PKG...: Debian sid's packages PKG... downloaded and unpacked
# (not installed) into $CACHE/NAME/root, once; for tools newer than bookworm's
# that run with their own libraries.
sid_unpack() {
	local name=$1 root=$CACHE/$1/root deb
	shift
	[ -d "$root" ] && return 0
	say "fetching $* from Debian sid"
	apt_private_update || die "cannot read the Debian archive (network?)"
	rm -rf "${CACHE:?}/$name" && mkdir -p "$CACHE/$name/debs" "$root.tmp"
	(cd "$CACHE/$name/debs" && apt_private apt-get download "${@/%//sid}" >/dev/null) ||
		die "could not download $* from Debian sid"
	for deb in "$CACHE/$name"/debs/*.deb; do
		dpkg-deb -x "$deb" "$root.tmp"
	done
	mv "$root.tmp" "$root"
}

# apt_closure APT DIR PKG...: PKG... and all they depend on, resolved as if
# nothing were installed, downloaded (not installed) into DIR by APT, a
# function that runs apt with a private configuration (apt_private, or
# board-check's arm64 one); once, and again when PKG... changes. apt's
# output is in DIR.log.
apt_closure() {
	local apt=$1 dir=$2
	shift 2
	[ "$(cat "$dir/done" 2>/dev/null)" != "$*" ] || return 0
	rm -rf "$dir" && mkdir -p "$dir/partial"
	: >"$dir.status"
	"$apt" apt-get -y --no-install-recommends --download-only \
		-o "Dir::State::status=$dir.status" -o "Dir::Cache::archives=$dir" \
		install "$@" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; return 1; }
	rm -rf "$dir/partial"
	echo "$*" >"$dir/done"
}

# sid_root NAME PKG...: Debian sid's packages PKG... and all they depend on,
# unpacked (not installed) into $CACHE/NAME/root, with the usual top-level
# links and mount points: a root to chroot into, for programs that need
# sid's libraries.  Fetched again when PKG... changes.
sid_root() {
	local name=$1 root=$CACHE/$1/root deb d
	shift
	[ -d "$root" ] && [ "$(cat "$CACHE/$name/packages" 2>/dev/null)" = "$*" ] && return 0
	say "fetching $* and what they depend on from Debian sid"
	apt_private_update || die "cannot read the Debian archive (network?)"
	rm -rf "${CACHE:?}/$name" && mkdir -p "$CACHE/$name" "$root.tmp"
	apt_closure apt_private "$CACHE/$name/debs" "${@/%//sid}" >/dev/null ||
		die "could not download $* and their dependencies from Debian sid (log: $CACHE/$name/debs.log)"
	for deb in "$CACHE/$name"/debs/*.deb; do
		dpkg-deb -x "$deb" "$root.tmp"
	done
	rm -rf "$CACHE/$name/debs"
	for d in bin lib lib64 sbin; do
		[ -d "$root.tmp/usr/$d" ] && ln -sfn "usr/$d" "$root.tmp/$d"
	done
	mkdir -p "$root.tmp"/{dev,proc,sys,run,tmp}
	mv "$root.tmp" "$root"
	echo "$*" >"$CACHE/$name/packages"
}

# need_debs PKG...: install the Debian packages that are missing (as root).
need_debs() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]}"
	say "installing ${missing[*]}"
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null || die "cannot install ${missing[*]}"
}

# PKG_USER: makepkg refuses to run as root; it runs as this system user,
# made by need_pkg_user when missing.
PKG_USER=vb2pkg
need_pkg_user() {
	[ "$(id -u)" -eq 0 ] || die "run as root: makepkg runs as the user $PKG_USER, made with useradd if missing"
	id -u "$PKG_USER" >/dev/null 2>&1 ||
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$PKG_USER" || die "cannot create the user $PKG_USER"
}

# copy_repo DEST: the repository's tracked files (what a clone has, and all
# that makechrootpkg binds into its chroot) copied to DEST.
copy_repo() {
	mkdir -p "$1"
	(cd "$REPO_DIR" && git ls-files -z --cached --others --exclude-standard |
		rsync -a --from0 --files-from=- ./ "$1/")
}
