# Installs, with apt, those of the Debian packages given that are not
# installed yet. Sourced by scripts/setup.sh and scripts/webdis.sh, which
# define `ok`, `die` and `as_root` (each names its own failing step).
apt_install_missing() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        ok "all installed"
        return
    fi
    echo "    installing: ${missing[*]}"
    as_root apt-get update -qq || die "apt-get update failed"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || die "apt-get install ${missing[*]} failed"
    ok "installed ${missing[*]}"
}
