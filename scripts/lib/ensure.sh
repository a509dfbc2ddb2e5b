# Shared set-up steps for scripts/start.sh and scripts/test.sh (sourced, not run).

# Installs npm dependencies when node_modules is missing or older than the lock file.
ensure_node_modules() {
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # `npm install` rather than `npm ci`: the lock file holds only the platform packages this registry serves
    # (chdb and msgpackr ship per-platform optional packages), which `npm ci` refuses as out of sync.
    echo "flowmesh: installing npm dependencies" >&2
    npm install --no-audit --no-fund
  fi
}

# Installs Debian packages whose commands are missing: ensure_debian_packages cmd:pkg ...
ensure_debian_packages() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "flowmesh: missing Debian packages: ${missing[*]} (run as root to have them installed, or install them yourself)" >&2
    return 1
  fi
  echo "flowmesh: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  # Packages must not start their own daemons here: Flowmesh starts (and stops) what it needs itself.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1; fi
  local rc=0 pkgs
  mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
  { apt-get update -q && apt-get install -y -q --no-install-recommends "${pkgs[@]}"; } >&2 || rc=$?
  [ "$made_policy" = 1 ] && rm -f "$policy"
  return $rc
}

redis_reachable() {
  local url=${REDIS_URL:-redis://127.0.0.1:6379} hostport host port
  hostport=${url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
  host=${hostport%:*}; port=${hostport##*:}; [ "$port" = "$host" ] && port=6379
  (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null
}
