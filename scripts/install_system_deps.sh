#!/usr/bin/env bash
# install_system_deps.sh — install the system packages the growth-assets
# warehouse needs: the PostgreSQL 15 server binaries and, if at all possible,
# the TimescaleDB extension built for PostgreSQL 15; and headless Chromium
# (Debian package `chromium`), which prints the board reports to PDF and which
# the report tests render the HTML with.
#
# Why build TimescaleDB: Debian 12 (bookworm) ships no TimescaleDB package and
# the only reachable package sources are the Debian archive and PyPI, so the
# extension is built from Debian 13's (trixie) *source* package.  The trixie
# suite is read through a PRIVATE apt configuration kept under
# <repo>/.warehouse/build/ (git-ignored): the machine's own apt sources, lists
# and caches are never touched.  The archive URI and keyring are taken at run
# time from the machine's own apt sources, so no host name is written here.
# Debian's source package carries only the Apache-2.0 part of TimescaleDB,
# hence APACHE_ONLY (no compression / continuous-aggregate policies of the
# TSL edition; hypertables work).
#
# Contract:
#   * idempotent: when everything is already installed it is a fast no-op;
#   * `apt-get update` runs at most once, and only when an install needs it;
#   * a missing PostgreSQL 15 that cannot be installed is fatal (exit 1);
#   * a Chromium that cannot be installed is NOT fatal here (reports are written
#     without their PDF); the report tests then fail with a clear message on CI;
#   * a TimescaleDB that cannot be installed is NOT fatal: a message goes to
#     stderr and the script exits 0, and the warehouse runs on plain
#     PostgreSQL (scripts/warehouse only preloads timescaledb when present);
#   * not root: `sudo` is used when available, otherwise the commands to run
#     are printed.
#
# Environment:
#   TIMESCALEDB_REBUILD=1   rebuild and reinstall TimescaleDB even if present.
set -euo pipefail

PG_MAJOR=15
PG_BIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
PG_CONFIG="${PG_BIN}/pg_config"
SOURCE_SUITE=trixie
SOURCE_PACKAGE=timescaledb
BUILD_PACKAGES=("postgresql-server-dev-${PG_MAJOR}" cmake gcc make dpkg-dev libssl-dev)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_ROOT="${REPO_ROOT}/.warehouse/build"

log() { printf 'install_system_deps: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- privileges -------------------------------------------------------------
SUDO=()
CAN_ROOT=1
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    CAN_ROOT=0
  fi
fi

# --- apt helpers ------------------------------------------------------------
APT_UPDATED=0

pkg_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

apt_update_once() {
  [[ "${APT_UPDATED}" -eq 1 ]] && return 0
  log "apt-get update"
  "${SUDO[@]}" apt-get update -qq || return 1
  APT_UPDATED=1
}

# True when the machine has no package lists at all (fresh image): installing
# without an update first would certainly fail.
apt_lists_empty() {
  ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

# apt_install PKG... — install the packages that are missing; returns non-zero
# on failure.  `apt-get update` only runs when the lists are empty or a first
# install attempt failed (stale lists), and at most once per run.
apt_install() {
  local missing=() p
  for p in "$@"; do
    pkg_installed "$p" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ "${CAN_ROOT}" -eq 0 ]]; then
    log "not root and no sudo: run as root: apt-get update && apt-get install -y ${missing[*]}"
    return 1
  fi
  if apt_lists_empty; then
    apt_update_once || return 1
  fi
  log "apt-get install ${missing[*]}"
  if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"; then
    [[ "${APT_UPDATED}" -eq 1 ]] && return 1
    apt_update_once || return 1
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" || return 1
  fi
}

# --- PostgreSQL 15 ----------------------------------------------------------
ensure_postgresql() {
  if [[ -x "${PG_BIN}/postgres" && -x "${PG_CONFIG}" ]]; then
    return 0
  fi
  log "PostgreSQL ${PG_MAJOR} server binaries missing in ${PG_BIN}; installing postgresql-${PG_MAJOR}"
  apt_install "postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}" \
    || die "could not install postgresql-${PG_MAJOR}; the warehouse cannot run without PostgreSQL ${PG_MAJOR}"
  [[ -x "${PG_BIN}/postgres" ]] || die "postgresql-${PG_MAJOR} installed but ${PG_BIN}/postgres is missing"

  # The Debian package creates and starts its own "main" cluster on port
  # 5432.  The project never uses it (scripts/warehouse runs a private
  # cluster), so stop it and keep it from being started automatically.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    local ver cluster _port status _rest
    while read -r ver cluster _port status _rest; do
      [[ "${ver}" == "${PG_MAJOR}" && "${cluster}" == main ]] || continue
      if [[ "${status}" == online* ]]; then
        log "stopping the Debian package's own cluster ${ver}/main (not used by this project)"
        "${SUDO[@]}" pg_ctlcluster "${ver}" main stop || log "warning: could not stop cluster ${ver}/main"
      fi
      if [[ -f "/etc/postgresql/${ver}/main/start.conf" ]]; then
        echo manual | "${SUDO[@]}" tee "/etc/postgresql/${ver}/main/start.conf" >/dev/null || true
      fi
    done < <(pg_lsclusters --no-header 2>/dev/null || true)
  fi
}

# --- TimescaleDB --------------------------------------------------------------
timescaledb_installed() {
  local sharedir pkglibdir control version
  sharedir="$("${PG_CONFIG}" --sharedir)" || return 1
  pkglibdir="$("${PG_CONFIG}" --pkglibdir)" || return 1
  control="${sharedir}/extension/timescaledb.control"
  [[ -f "${control}" && -f "${pkglibdir}/timescaledb.so" ]] || return 1
  # The loader (timescaledb.so) loads timescaledb-<default_version>.so.
  version="$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" "${control}")"
  [[ -z "${version}" || -f "${pkglibdir}/timescaledb-${version}.so" ]]
}

timescaledb_version() {
  sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" \
    "$("${PG_CONFIG}" --sharedir)/extension/timescaledb.control" 2>/dev/null || true
}

# Soft failure: TimescaleDB is optional.
ts_fail() {
  log "TimescaleDB could not be installed: $*; the warehouse will run on plain PostgreSQL"
  exit 0
}

# Sets MIRROR_URI and MIRROR_KEYRING from the machine's own apt sources:
# the first enabled deb822 stanza (sources.list.d/*.sources) whose suites are
# not -security suites, else the first such line of the one-line format.
MIRROR_URI=""
MIRROR_KEYRING=""

first_existing_keyring() {
  local k
  for k in "$@"; do
    if [[ -f "$k" ]]; then
      printf '%s' "$k"
      return 0
    fi
  done
  return 0
}

consider_stanza() {
  # args: types uris suites signed_by enabled
  local types="$1" uris="$2" suites="$3" signed_by="$4" enabled="$5" s uri
  [[ -n "${uris}" && "${enabled,,}" != no ]] || return 1
  [[ " ${types} " == *" deb "* || " ${types} " == *" deb-src "* ]] || return 1
  for s in ${suites}; do
    [[ "$s" == *-security ]] && return 1
  done
  for uri in ${uris}; do
    [[ "${uri}" == cdrom:* ]] && continue
    MIRROR_URI="${uri}"
    # shellcheck disable=SC2086  # signed_by is a space-separated list of paths
    MIRROR_KEYRING="$(first_existing_keyring ${signed_by})"
    return 0
  done
  return 1
}

find_mirror() {
  local f line key val types uris suites signed_by enabled
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    types="" uris="" suites="" signed_by="" enabled=yes
    while IFS= read -r line || [[ -n "${line}" ]]; do
      if [[ "${line}" =~ ^[[:space:]]*$ ]]; then
        if consider_stanza "${types}" "${uris}" "${suites}" "${signed_by}" "${enabled}"; then
          shopt -u nullglob
          return 0
        fi
        types="" uris="" suites="" signed_by="" enabled=yes
        continue
      fi
      [[ "${line}" =~ ^[[:space:]]*# ]] && continue
      [[ "${line}" =~ ^[[:space:]] ]] && continue # continuation (e.g. inline key)
      [[ "${line}" == *:* ]] || continue
      key="${line%%:*}"
      val="${line#*:}"
      val="${val#"${val%%[![:space:]]*}"}"
      case "${key,,}" in
        types) types="${val}" ;;
        uris) uris="${val}" ;;
        suites) suites="${val}" ;;
        signed-by) signed_by="${val}" ;;
        enabled) enabled="${val}" ;;
      esac
    done <"$f"
    if consider_stanza "${types}" "${uris}" "${suites}" "${signed_by}" "${enabled}"; then
      shopt -u nullglob
      return 0
    fi
  done

  # One-line format: deb [opt=val ...] URI SUITE COMPONENT...
  local words opts i w
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    while IFS= read -r line || [[ -n "${line}" ]]; do
      line="${line%%#*}"
      read -ra words <<<"${line}"
      [[ ${#words[@]} -ge 3 ]] || continue
      [[ "${words[0]}" == deb || "${words[0]}" == deb-src ]] || continue
      i=1
      opts=""
      if [[ "${words[1]}" == "["* ]]; then
        while [[ $i -lt ${#words[@]} ]]; do
          w="${words[$i]}"
          opts+=" ${w}"
          i=$((i + 1))
          [[ "$w" == *"]" ]] && break
        done
      fi
      [[ $((i + 1)) -lt ${#words[@]} ]] || continue
      [[ "${words[$((i + 1))]}" == *-security ]] && continue
      [[ "${words[$i]}" == cdrom:* ]] && continue
      MIRROR_URI="${words[$i]}"
      opts="${opts//[\[\]]/ }"
      signed_by=""
      for w in ${opts}; do
        [[ "$w" == signed-by=* ]] && signed_by="${w#signed-by=}"
      done
      # shellcheck disable=SC2086  # comma-separated list of paths
      MIRROR_KEYRING="$(first_existing_keyring ${signed_by//,/ })"
      shopt -u nullglob
      return 0
    done <"$f"
  done
  shopt -u nullglob
  return 1
}

# run_step DESCRIPTION CMD... — run a build step with its output appended to
# BUILD_LOG (stdin closed); on failure show the log's tail and soft-fail.
BUILD_LOG=""
run_step() {
  local what="$1"
  shift
  log "  ${what}"
  if ! "$@" </dev/null >>"${BUILD_LOG}" 2>&1; then
    tail -n 25 "${BUILD_LOG}" >&2 || true
    ts_fail "${what} failed (full log: ${BUILD_LOG})"
  fi
}

build_timescaledb() {
  local apt_dir src_dir start
  start=${SECONDS}

  if [[ "${CAN_ROOT}" -eq 0 ]]; then
    log "not root and no sudo: TimescaleDB needs root to install. As root, run: ${REPO_ROOT}/scripts/install_system_deps.sh"
    ts_fail "no root privileges"
  fi

  apt_install "${BUILD_PACKAGES[@]}" || ts_fail "the build dependencies (${BUILD_PACKAGES[*]}) could not be installed"

  find_mirror || ts_fail "no Debian archive URI found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  log "building TimescaleDB for PostgreSQL ${PG_MAJOR} from the ${SOURCE_SUITE} source package (archive ${MIRROR_URI}${MIRROR_KEYRING:+, keyring ${MIRROR_KEYRING}})"

  # Private apt configuration: deb-src for the source suite only, with its own
  # sources file, lists and caches, so the system's apt state is untouched.
  apt_dir="${BUILD_ROOT}/apt"
  mkdir -p "${apt_dir}/lists/partial" "${apt_dir}/cache/archives/partial" \
    || ts_fail "cannot create ${apt_dir}"
  {
    printf 'deb-src %s%s %s main\n' \
      "${MIRROR_KEYRING:+[signed-by=${MIRROR_KEYRING}] }" "${MIRROR_URI}" "${SOURCE_SUITE}"
  } >"${apt_dir}/sources.list" || ts_fail "cannot write ${apt_dir}/sources.list"
  local apt_opts=(
    -o "Dir::Etc::SourceList=${apt_dir}/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=${apt_dir}/lists"
    -o "Dir::Cache=${apt_dir}/cache"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
  )
  BUILD_LOG="${BUILD_ROOT}/timescaledb-build.log"
  : >"${BUILD_LOG}" || ts_fail "cannot write ${BUILD_LOG}"

  # Private lists and caches: this needs no root privileges.
  run_step "apt-get update (private ${SOURCE_SUITE} deb-src list)" \
    apt-get -q "${apt_opts[@]}" update
  rm -rf "${BUILD_ROOT}/src" || ts_fail "cannot clean ${BUILD_ROOT}/src"
  mkdir -p "${BUILD_ROOT}/src" || ts_fail "cannot create ${BUILD_ROOT}/src"
  run_step "apt-get source ${SOURCE_PACKAGE}" \
    env -C "${BUILD_ROOT}/src" apt-get -q "${apt_opts[@]}" source "${SOURCE_PACKAGE}"

  src_dir=""
  local d
  for d in "${BUILD_ROOT}/src/${SOURCE_PACKAGE}"-*/; do
    [[ -f "${d}bootstrap" ]] && src_dir="${d%/}"
  done
  [[ -n "${src_dir}" ]] || ts_fail "no unpacked ${SOURCE_PACKAGE} source tree with a bootstrap script under ${BUILD_ROOT}/src"
  log "  source tree: ${src_dir}"

  run_step "configure (bootstrap)" \
    env -C "${src_dir}" BUILD_FORCE_REMOVE=true bash ./bootstrap \
    -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
    -DPG_CONFIG="${PG_CONFIG}"
  run_step "compile (make -j$(nproc))" make -C "${src_dir}/build" -j"$(nproc)"
  run_step "install (make install)" "${SUDO[@]}" make -C "${src_dir}/build" install

  timescaledb_installed || ts_fail "the build finished but timescaledb.control / timescaledb.so are not in PostgreSQL ${PG_MAJOR}'s directories"
  log "TimescaleDB $(timescaledb_version) installed for PostgreSQL ${PG_MAJOR} in $((SECONDS - start)) s (log: ${BUILD_LOG})"
}

# --- Chromium (headless: report PDFs and the report rendering tests) ---------
CHROMIUM_PACKAGE=chromium
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || pkg_installed "${CHROMIUM_PACKAGE}"; then
    return 0
  fi
  log "headless Chromium missing; installing ${CHROMIUM_PACKAGE}"
  apt_install "${CHROMIUM_PACKAGE}" \
    || log "WARNING: could not install ${CHROMIUM_PACKAGE}: reports get no PDF and the report rendering test fails on CI"
}

main() {
  ensure_postgresql
  ensure_chromium
  if [[ "${TIMESCALEDB_REBUILD:-0}" != 1 ]] && timescaledb_installed; then
    log "PostgreSQL ${PG_MAJOR} and TimescaleDB $(timescaledb_version) already installed; nothing to do"
    exit 0
  fi
  build_timescaledb
}

main "$@"
