# shellcheck shell=bash
# test/lib/node.sh: helpers for the test scripts that run Node.js
# (test/scripts/events_consumer.sh, test/scripts/stripe_types.sh).  Source it.
#
#   ensure_node           node >= 18 and npm on PATH; installs the Debian 12
#                         packages nodejs and npm with apt-get when missing
#   npm_ci DIR            npm ci in DIR (from its package-lock.json)

ensure_node() {
    local sudo=() missing=()
    if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null 2>&1; then sudo=(sudo); fi
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if ((${#missing[@]} > 0)); then
        echo "==> installing ${missing[*]} (apt-get)" >&2
        if [[ "$(id -u)" -ne 0 && ${#sudo[@]} -eq 0 ]]; then
            echo "error: ${missing[*]} missing, and neither root nor sudo" >&2
            return 1
        fi
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 || return 1
    fi
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')" || return 1
    if ((major < 18)); then
        echo "error: node $(node --version) is too old (need 18 or later)" >&2
        return 1
    fi
    echo "==> node $(node --version), npm $(npm --version)" >&2
}

npm_ci() {
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error) >&2
}
