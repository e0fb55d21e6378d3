#!/usr/bin/env bash
# Installs gVisor's runsc 0.0~20240729 from Debian bookworm-backports (systrap platform, nvproxy for GPUs,
# uncompressed/direct-I/O checkpoints) instead of bookworm's 2022 release. Only runsc is pinned to
# backports; every other package keeps coming from the release it came from. The backports source uses
# the same mirror the machine already has configured for bookworm, so no mirror is named here.
# Safe to run again: does nothing when a new enough runsc is installed. Output goes to a log.
#
#   scripts/install-runsc.sh            # KILN_RUNSC_LOG=/path/to.log to move the log
set -euo pipefail

want_version="0.0~20240729"
sources_file=/etc/apt/sources.list.d/kiln-bookworm-backports.sources
prefs_file=/etc/apt/preferences.d/kiln-runsc-backports
log_file="${KILN_RUNSC_LOG:-${TMPDIR:-/tmp}/kiln-install-runsc.log}"

say() { printf 'kiln install-runsc: %s\n' "$*"; }

installed=$(dpkg-query -W -f='${Version}' runsc 2>/dev/null || true)
if [[ -n "$installed" ]] && dpkg --compare-versions "$installed" ge "$want_version"; then
  exit 0
fi

if [[ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" != bookworm ]]; then
  # trixie and later ship this runsc (or newer) in their own release; older releases are not supported.
  say "not bookworm: installing runsc from the configured release"
  apt-get install -y -qq --no-install-recommends runsc >>"$log_file" 2>&1
  exit 0
fi

# The mirror serving bookworm main (and its keyring), from deb822 sources first, then the one-line format.
mirror_and_key() {
  local file out
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" && "$file" != "$sources_file" ]] || continue
    # One stanza per paragraph; take the first enabled deb stanza whose suites include plain "bookworm".
    out=$(awk -v RS= '
      /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && /(^|\n)Suites:([^\n]*[ \t])?bookworm([ \t]|\n|$)/ && !/(^|\n)Enabled:[ \t]*no/ {
        uri = ""; key = ""
        n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          if (lines[i] ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", lines[i]); split(lines[i], u, /[ \t]+/); uri = u[1] }
          if (lines[i] ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", lines[i]); key = lines[i] }
        }
        if (uri != "") { print uri " " key; exit }
      }' "$file")
    if [[ -n "$out" ]]; then
      echo "$out"
      return 0
    fi
  done
}
found=$(mirror_and_key || true)
if [[ -z "$found" && -f /etc/apt/sources.list ]]; then
  found=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($(i+1) == "bookworm") { print $i; exit } else break } }' /etc/apt/sources.list)
fi
mirror=${found%% *}
keyring=${found#"$mirror"}
keyring=${keyring# }
if [[ -z "$mirror" ]]; then
  say "no Debian bookworm mirror found in /etc/apt/sources.list(.d); cannot add bookworm-backports" >&2
  exit 1
fi
[[ -n "$keyring" ]] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg

new_sources=$(printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' "$mirror" "$keyring")
if [[ ! -f "$sources_file" || "$(cat "$sources_file")" != "$new_sources" ]]; then
  printf '%s\n' "$new_sources" >"$sources_file"
fi
# Backports stays opt-in for everything (priority 100 never upgrades an installed package); runsc alone
# follows it.
cat >"$prefs_file" <<'EOF'
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: runsc
Pin: release n=bookworm-backports
Pin-Priority: 990
EOF

say "installing runsc $want_version from bookworm-backports (log: $log_file)"
{
  # Refresh only the backports lists; the rest of the machine's lists are left as they are.
  apt-get update -o Dir::Etc::sourcelist="$sources_file" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "runsc/bookworm-backports"
} >>"$log_file" 2>&1 || {
  say "failed; last lines of $log_file:" >&2
  tail -n 15 "$log_file" >&2
  exit 1
}
installed=$(dpkg-query -W -f='${Version}' runsc)
if ! dpkg --compare-versions "$installed" ge "$want_version"; then
  say "installed runsc $installed, older than $want_version" >&2
  exit 1
fi
say "runsc $installed installed"
