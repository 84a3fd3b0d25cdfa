#!/usr/bin/env bash
# Local multi-replica topology on loopback, without Docker: the same nginx config as the compose file,
# its upstream pointed at 127.0.0.1 ports, nginx run from a temporary prefix.
#
#   topology.sh rewrite <nginx.conf> <prefix> <listen-port> <backend-port>...
#       prints the rewritten config: upstream servers -> 127.0.0.1:<backend-port>, listen ->
#       127.0.0.1:<listen-port>, pid/logs/temp files under <prefix> (its tmp/ folders are created), no
#       Docker DNS resolver. Then: nginx -t -p <prefix> -c <the printed copy>.
#   topology.sh up [--conf <nginx.conf>] [--port <listen-port>] -- '<service command>' '<service command>' ...
#       picks a free loopback port per service, starts each command with {port} replaced by it (and
#       PORT / ASPNETCORE_URLS=http://127.0.0.1:<port> in its environment), starts nginx in front, prints
#         TOPOLOGY nginx=http://127.0.0.1:<port> backends=<p1>,<p2> prefix=<dir>
#       and waits; on exit (SIGTERM, SIGINT, a service or nginx ending) stops everything it started and
#       removes the prefix. Exit status: 0 when stopped by a signal, 1 when a child ended first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
default_conf="$here/../nginx/nginx.conf"

die() { echo "topology.sh: $*" >&2; exit 2; }

rewrite() { # conf prefix listen ports...
  local conf="$1" prefix="$2" listen="$3"; shift 3
  [ -f "$conf" ] || die "no nginx config at '$conf'"
  [ $# -ge 1 ] || die "rewrite needs at least one backend port"
  mkdir -p "$prefix/tmp/body" "$prefix/tmp/proxy" "$prefix/tmp/fastcgi" "$prefix/tmp/uwsgi" "$prefix/tmp/scgi"
  awk -v prefix="$prefix" -v listen="$listen" -v ports="$*" '
    BEGIN { n = split(ports, port, " ") }
    /^[[:space:]]*upstream[[:space:]]+[A-Za-z0-9_]+[[:space:]]*\{/ { in_upstream = 1; print; next }
    in_upstream && /^[[:space:]]*server[[:space:]]/ { next }
    in_upstream && /^[[:space:]]*\}/ {
      for (i = 1; i <= n; i++) printf "        server 127.0.0.1:%s max_fails=1 fail_timeout=2s;\n", port[i]
      in_upstream = 0
    }
    /^[[:space:]]*resolver[[:space:]]/ { next }
    /^[[:space:]]*worker_processes[[:space:]]/ { print "worker_processes 1;"; next }
    /^[[:space:]]*worker_connections[[:space:]]/ { print "    worker_connections 512;"; next }
    /^[[:space:]]*pid[[:space:]]/ { printf "pid %s/nginx.pid;\n", prefix; next }
    /^[[:space:]]*access_log[[:space:]]+\/dev\/stdout;/ { printf "    access_log %s/access.log;\n", prefix; next }
    /^[[:space:]]*error_log[[:space:]]/ { printf "    error_log %s/error.log warn;\n", prefix; next }
    /^[[:space:]]*listen[[:space:]]/ { printf "        listen 127.0.0.1:%s;\n", listen; next }
    /^http[[:space:]]*\{/ {
      print
      printf "    client_body_temp_path %s/tmp/body;\n    proxy_temp_path %s/tmp/proxy;\n", prefix, prefix
      printf "    fastcgi_temp_path %s/tmp/fastcgi;\n    uwsgi_temp_path %s/tmp/uwsgi;\n    scgi_temp_path %s/tmp/scgi;\n", prefix, prefix, prefix
      next
    }
    { print }
  ' "$conf"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() { # port, pid of the process that should open it
  local port="$1" pid="$2"
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

up() {
  local conf="$default_conf" listen=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --conf) conf="$2"; shift 2 ;;
      --port) listen="$2"; shift 2 ;;
      --) shift; break ;;
      *) die "unknown option '$1' (usage: up [--conf F] [--port N] -- 'cmd' 'cmd' ...)" ;;
    esac
  done
  [ $# -ge 1 ] || die "up needs at least one service command after --"
  command -v nginx >/dev/null 2>&1 || die "nginx is not installed (apt-get install -y nginx)"

  local prefix; prefix="$(mktemp -d "${TMPDIR:-/tmp}/vqtoken-topology.XXXXXX")"
  local pids=() ports=()
  cleanup() {
    trap - EXIT INT TERM
    [ -f "$prefix/nginx.pid" ] && kill "$(cat "$prefix/nginx.pid")" 2>/dev/null || true
    for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$prefix"
  }
  trap 'cleanup; exit 0' INT TERM
  trap cleanup EXIT

  local i=0
  for cmd in "$@"; do
    i=$((i + 1))
    local port; port="$(free_port)"
    ports+=("$port")
    # Each service in its own process group, so stopping it stops what it started.
    PORT="$port" ASPNETCORE_URLS="http://127.0.0.1:$port" setsid bash -c "${cmd//\{port\}/$port}" >"$prefix/service-$i.log" 2>&1 &
    pids+=("$!")
  done
  [ -n "$listen" ] || listen="$(free_port)"
  rewrite "$conf" "$prefix" "$listen" "${ports[@]}" >"$prefix/nginx.conf"
  chmod 755 "$prefix" && chmod -R 777 "$prefix/tmp" # nginx workers may run as another user than the master
  nginx -t -q -p "$prefix" -c "$prefix/nginx.conf" || die "nginx rejected the rewritten config ($prefix/nginx.conf)"
  nginx -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' >"$prefix/nginx.log" 2>&1 &
  local nginx_pid=$!
  pids+=("$nginx_pid")
  wait_for_port "$listen" "$nginx_pid" || { cat "$prefix/nginx.log" "$prefix/error.log" >&2 2>/dev/null; die "nginx did not start"; }
  local n=0
  for port in "${ports[@]}"; do
    wait_for_port "$port" "${pids[$n]}" || { cat "$prefix/service-$((n + 1)).log" >&2; die "service $((n + 1)) did not open port $port"; }
    n=$((n + 1))
  done
  echo "TOPOLOGY nginx=http://127.0.0.1:$listen backends=$(IFS=,; echo "${ports[*]}") prefix=$prefix"
  wait -n "${pids[@]}" || true
  echo "topology.sh: a service or nginx ended; stopping the topology" >&2
  exit 1
}

case "${1:-}" in
  rewrite) shift; rewrite "$@" ;;
  up) shift; up "$@" ;;
  *) die "usage: topology.sh rewrite <nginx.conf> <prefix> <listen-port> <backend-port>... | up [--conf F] [--port N] -- 'cmd' 'cmd' ..." ;;
esac
