# shellcheck shell=bash
# Sourced by .ci/run: a throwaway PostgreSQL cluster for the store's tests, stopped when the shell exits.
# Exports TEST_DATABASE_URL. Installs Debian's postgresql when the machine lacks it; runs the server as the
# `postgres` user (initdb refuses root).

pg_bin_dir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && echo "$dir" && return 0
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_test_postgres() {
  local bin port dir as_pg
  if ! bin=$(pg_bin_dir); then
    if command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    bin=$(pg_bin_dir) || { echo "PostgreSQL is not installed and could not be installed" >&2; return 1; }
  fi
  port=$(free_port)
  dir=$(mktemp -d /tmp/ci-postgres.XXXXXX)
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  "${as_pg[@]}" "$bin/createdb" -h "$dir" -p "$port" -U postgres classroom_test
  CI_PG_STOP=("${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop)
  CI_PG_DIR=$dir
  trap stop_test_postgres EXIT
  export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/classroom_test"
  echo "test PostgreSQL on port $port"
}

stop_test_postgres() {
  if [ -n "${CI_PG_DIR:-}" ]; then
    "${CI_PG_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$CI_PG_DIR"
    CI_PG_DIR=
  fi
}
