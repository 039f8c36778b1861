# Sourced by the setup scripts. `apt_want PKG...` notes Debian packages a
# step lacks; `apt_install` installs all of them in one apt transaction
# (one `apt-get update`), as root or through sudo.
apt_wanted=()

apt_want() {
    apt_wanted+=("$@")
}

apt_install() {
    [ ${#apt_wanted[@]} -gt 0 ] || return 0
    echo "setup: installing ${apt_wanted[*]} (apt)" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_wanted[@]}" >/dev/null
    apt_wanted=()
}
