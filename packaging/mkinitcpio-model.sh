#!/bin/sh
# A model of mkinitcpio's pacman integration, for the hook tests (test-hooks.sh).
#
# usage: mkinitcpio-model.sh setup ROOT      (on the host) install the model into ROOT
#
# and, installed in ROOT by setup, this same file is
#   /usr/share/libalpm/scripts/mkinitcpio install|remove
#                    the script of mkinitcpio's two pacman hooks: the paths
#                    pacman matched on stdin
#   /usr/bin/mkinitcpio -p PKGBASE... | -P
#                    a fake mkinitcpio: for each preset of PKGBASE's
#                    /etc/mkinitcpio.d/PKGBASE.preset it writes a text file
#                    as the image, naming the kernel it was built for
#
# What it models, from archlinux/mkinitcpio (read there, written here anew,
# in POSIX sh: the test's root has a static busybox and no bash):
# - libalpm/hooks/60-mkinitcpio-remove.hook: PreTransaction, on the Remove
#   of usr/lib/modules/*/vmlinuz (or of mkinitcpio itself), runs the script
#   with "remove", NeedsTargets.  An upgrade to a new kernel release removes
#   the old release's vmlinuz, so this runs on every upgrade.
# - libalpm/hooks/90-mkinitcpio-install.hook: PostTransaction, on the
#   Install or Upgrade of usr/lib/modules/*/vmlinuz (and on changes to
#   usr/lib/initcpio/*, usr/lib/firmware/*, usr/src/*/dkms.conf), runs the
#   script with "install", NeedsTargets.  (Older releases call it through
#   the wrappers mkinitcpio-install and mkinitcpio-remove.)
# - libalpm/scripts/mkinitcpio: for each .../vmlinuz target, pkgbase is read
#   from the pkgbase file beside it.
#   install: if /etc/mkinitcpio.d/PKGBASE.preset is missing, it is moved
#   back from PKGBASE.preset.pacsave, or else written from the template
#   with %PKGBASE% replaced; the kernel is copied to the preset's *_kver
#   paths (ALL_kver); then one `mkinitcpio -p PKGBASE ...` builds the images.
#   remove: the files the preset names (the kernel copies, each preset's
#   image) are removed; then a preset that differs from the template is
#   moved to PKGBASE.preset.pacsave (unless one is there already), and one
#   identical to it is removed.
#   Other targets (usr/lib/initcpio/* ...): install rebuilds every preset
#   (mkinitcpio -P), remove does the preset step for every preset.
# - mkinitcpio.d/hook.preset, installed as /usr/share/mkinitcpio/hook.preset:
#   the template, as upstream has it today.
#
# Where the model differs:
# - A preset is a bash file; here it is read by preset_load, which takes a
#   one-line array NAME=(...) (the template's PRESETS=('default')) as the
#   word list NAME.  Other bash-only syntax in a preset is not modelled.
# - Upstream does not copy the kernel over, nor remove, a *_kver path that a
#   package owns (pacman -Qoq); the root has no pacman to ask, and no package
#   here owns /boot/vmlinuz-*, so any absolute *_kver path counts.
# - The remove step's stat of /boot, /efi and the files (to trigger
#   automounts) is left out.
# - Files are installed with install_644 (upstream: install -Dm644), as the
#   root's busybox has no install.
# - mkinitcpio itself is faked: no modules, no compression, no UKI.
set -e
nl='
'

# get NAME: the value of the variable NAME; isset NAME: whether it is set
get() { eval "printf '%s' \"\${$1-}\""; }
isset() { eval "[ -n \"\${$1+set}\" ]"; }

# install_644 FILE < CONTENT: what install -Dm644 /dev/stdin FILE does
install_644() {
	mkdir -p -- "$(dirname -- "$1")"
	cat >"$1"
	chmod 644 -- "$1"
}

# preset_load FILE: source the preset FILE (when not empty), its one-line
# arrays NAME=(WORD...) as NAME="WORD...".
preset_load() {
	[ -s "$1" ] || return 0
	_code=$(sed 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)=(\(.*\))[[:space:]]*$/set -- \2; \1="$*"/' "$1")
	eval "$_code"
}

# is_kernelcopy KVER: whether a *_kver value is a path to copy the kernel to
# (and not a kernel release such as 6.5.2-arch1-1)
is_kernelcopy() {
	case $1 in /*) return 0 ;; *) return 1 ;; esac
}

# read_preset PKGBASE: from the loaded preset, filelist (the files it
# makes) and kernellist (its *_kver values), newline-separated.
# shellcheck disable=SC2154 # ALL_image, ALL_uki, ALL_kver: the preset's
read_preset() {
	filelist='' kernellist=''
	if isset PRESETS; then
		for _p in $PRESETS; do
			if isset "${_p}_image"; then
				filelist=$filelist$(get "${_p}_image")$nl
			elif isset ALL_image; then
				filelist=$filelist$ALL_image$nl
			fi
			if isset "${_p}_uki"; then
				filelist=$filelist$(get "${_p}_uki")$nl
			elif isset ALL_uki; then
				filelist=$filelist$ALL_uki$nl
			fi
			if isset "${_p}_kver"; then
				_k=$(get "${_p}_kver")
			elif isset ALL_kver; then
				_k=$ALL_kver
			else
				continue
			fi
			if is_kernelcopy "$_k"; then filelist=$filelist$_k$nl; fi
			kernellist=$kernellist$_k$nl
		done
	else
		filelist="/boot/vmlinuz-$1$nl/boot/initramfs-$1.img$nl/boot/initramfs-$1-fallback.img$nl"
		filelist="$filelist/efi/EFI/Linux/arch-$1.efi$nl/efi/EFI/Linux/arch-$1-fallback.efi$nl"
		kernellist="/boot/vmlinuz-$1$nl"
	fi
	filelist=$(printf '%s' "$filelist" | sort -u)
	kernellist=$(printf '%s' "$kernellist" | sort -u)
}

# template PKGBASE: mkinitcpio's template for PKGBASE's preset
template() {
	sed "s|%PKGBASE%|$1|g" /usr/share/mkinitcpio/hook.preset
}

# process_preset PKGBASE PRESET: what the remove step does with the preset
process_preset() {
	[ -n "$1" ] && [ -e "$2" ] || return 0
	if ! template "$1" | cmp -s "$2" - 2>/dev/null; then
		if [ ! -e "$2.pacsave" ]; then
			mv -- "$2" "$2.pacsave"
		fi
	else
		rm -- "$2"
	fi
}

# install_kernel PKGBASE VMLINUZ
install_kernel() {
	_preset=/etc/mkinitcpio.d/$1.preset
	if [ ! -e "$_preset" ]; then
		if [ -e "$_preset.pacsave" ]; then
			mv -- "$_preset.pacsave" "$_preset"
		else
			template "$1" | install_644 "$_preset"
		fi
	fi
	(
		preset_load "$_preset"
		read_preset "$1"
		IFS=$nl
		for _k in $kernellist; do
			if is_kernelcopy "$_k"; then install_644 "$_k" <"$2"; fi
		done
	)
	pkgbases="$pkgbases $1"
}

# remove_kernel PKGBASE
remove_kernel() {
	_preset=/etc/mkinitcpio.d/$1.preset
	(
		preset_load "$_preset"
		read_preset "$1"
		IFS=$nl
		for _f in $filelist; do rm -f -- "$_f"; done
	) || return
	process_preset "$1" "$_preset"
}

# hook_script install|remove: the script of mkinitcpio's hooks
hook_script() {
	pkgbases='' package=0
	while IFS= read -r line; do
		case $line in
		*/vmlinuz) ;;
		*) package=1; continue ;;
		esac
		pkgbase=
		read -r pkgbase <"${line%/vmlinuz}/pkgbase" 2>/dev/null || continue
		case $1 in
		install) install_kernel "$pkgbase" "$line" ;;
		remove) remove_kernel "$pkgbase" ;;
		esac
	done
	all=0
	if [ "$package" = 1 ] && ls /etc/mkinitcpio.d/*.preset >/dev/null 2>&1; then
		case $1 in
		install) all=1 ;;
		remove)
			for preset in /etc/mkinitcpio.d/*.preset; do
				[ -e "$preset" ] || continue
				pkgbase=${preset##*/}
				process_preset "${pkgbase%.preset}" "$preset"
			done
			;;
		esac
	fi
	[ "$1" = install ] || return 0
	if [ "$all" = 1 ]; then
		mkinitcpio -P
	elif [ -n "$pkgbases" ]; then
		set --
		for pkgbase in $pkgbases; do set -- "$@" -p "$pkgbase"; done
		mkinitcpio "$@"
	fi
}

# fake_mkinitcpio -p PKGBASE... | -P
fake_mkinitcpio() {
	_names=
	while [ $# -gt 0 ]; do
		case $1 in
		-p) _names="$_names $2"; shift 2 ;;
		-P)
			for _f in /etc/mkinitcpio.d/*.preset; do
				[ -e "$_f" ] || continue
				_f=${_f##*/}
				_names="$_names ${_f%.preset}"
			done
			shift
			;;
		*) echo "==> ERROR: fake mkinitcpio: unsupported option $1" >&2; return 1 ;;
		esac
	done
	for _name in $_names; do
		_preset=/etc/mkinitcpio.d/$_name.preset
		[ -f "$_preset" ] || { echo "==> ERROR: Preset not found: '$_preset'" >&2; return 1; }
		(
			preset_load "$_preset"
			for _p in ${PRESETS-}; do
				if isset "${_p}_kver"; then _k=$(get "${_p}_kver"); else _k=${ALL_kver-}; fi
				if isset "${_p}_image"; then _img=$(get "${_p}_image"); else _img=${ALL_image-}; fi
				[ -n "$_img" ] || continue
				echo "==> Building image from preset: $_preset: '$_p'"
				[ -f "$_k" ] || { echo "==> ERROR: '$_k' not found" >&2; exit 1; }
				mkdir -p "$(dirname "$_img")"
				printf 'fake initramfs of %s, preset %s, for: %s\n' "$_name" "$_p" "$(head -n 1 "$_k")" >"$_img"
				echo "==> Image generation successful"
			done
		)
	done
}

# setup ROOT: the model's hooks, script, template and mkinitcpio in ROOT
setup() {
	_root=$1 _hooks=$1/usr/share/libalpm/hooks
	mkdir -p "$_hooks" "$_root/usr/share/libalpm/scripts" "$_root/usr/share/mkinitcpio" "$_root/usr/bin"
	cat >"$_hooks/60-mkinitcpio-remove.hook" <<'EOH'
# Model of mkinitcpio's hook (packaging/mkinitcpio-model.sh)
[Trigger]
Type = Path
Operation = Remove
Target = usr/lib/modules/*/vmlinuz

[Trigger]
Type = Package
Operation = Remove
Target = mkinitcpio
Target = mkinitcpio-git

[Action]
Description = Removing linux initcpios...
When = PreTransaction
Exec = /usr/share/libalpm/scripts/mkinitcpio remove
NeedsTargets
EOH
	cat >"$_hooks/90-mkinitcpio-install.hook" <<'EOH'
# Model of mkinitcpio's hook (packaging/mkinitcpio-model.sh)
[Trigger]
Type = Path
Operation = Install
Operation = Upgrade
Operation = Remove
Target = usr/lib/initcpio/*
Target = usr/lib/firmware/*
Target = usr/src/*/dkms.conf

[Trigger]
Type = Path
Operation = Install
Operation = Upgrade
Target = usr/lib/modules/*/vmlinuz

[Action]
Description = Updating linux initcpios...
When = PostTransaction
Exec = /usr/share/libalpm/scripts/mkinitcpio install
NeedsTargets
EOH
	cat >"$_root/usr/share/mkinitcpio/hook.preset" <<'EOT'
# mkinitcpio preset file for the '%PKGBASE%' package

#ALL_config="/etc/mkinitcpio.conf"
ALL_kver="/boot/vmlinuz-%PKGBASE%"

PRESETS=('default')
#PRESETS=('default' 'fallback')

#default_config="/etc/mkinitcpio.conf"
default_image="/boot/initramfs-%PKGBASE%.img"
#default_uki="/efi/EFI/Linux/arch-%PKGBASE%.efi"
#default_options="--splash /usr/share/systemd/bootctl/splash-arch.bmp"

#fallback_config="/etc/mkinitcpio.conf"
#fallback_image="/boot/initramfs-%PKGBASE%-fallback.img"
#fallback_uki="/efi/EFI/Linux/arch-%PKGBASE%-fallback.efi"
#fallback_options="-S autodetect"
EOT
	cp "$0" "$_root/usr/share/libalpm/scripts/mkinitcpio"
	cp "$0" "$_root/usr/bin/mkinitcpio"
	chmod 755 "$_root/usr/share/libalpm/scripts/mkinitcpio" "$_root/usr/bin/mkinitcpio"
}

case ${1-} in
install | remove) hook_script "$1" ;;
-p | -P) fake_mkinitcpio "$@" ;;
setup) [ $# -eq 2 ] && setup "$2" ;;
*)
	echo "usage: mkinitcpio-model.sh setup ROOT | install|remove (targets on stdin) | -p PKGBASE... | -P" >&2
	exit 2
	;;
esac
