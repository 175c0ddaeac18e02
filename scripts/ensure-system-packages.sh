#!/usr/bin/env bash
# Installs what the tests need from Debian's packages when it is missing: PostgreSQL, Java 17, Maven, Chromium,
# poppler-utils, the Noto fonts and Node.js with npm.
set -euo pipefail

missing=()
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null 2>&1; then
  missing+=(postgresql)
fi
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# The CloudEvents Java SDK judge is compiled by the tests.
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
# The scrutiny-pack tests render the HTML pack in a headless browser and the PDF with pdftoppm.
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# The PDF packs draw every script with the Noto fonts (a character no font has fails the render, never "?").
[ -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf ] || missing+=(fonts-noto-core)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
# The npm judges (the root package.json; graphql-http's GraphQL over HTTP audit) run on Node.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing from Debian's packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's package starts a cluster of its own on port 5432; the tests start their own, so stop it.
if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v pg_ctlcluster >/dev/null 2>&1; then
  $SUDO service postgresql stop >/dev/null 2>&1 || true
fi
