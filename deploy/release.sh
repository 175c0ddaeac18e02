#!/usr/bin/env bash
# The release step: pin the production overlay's image to the digest the release pipeline built and pushed.
#   deploy/release.sh sha256:<64 hex digits>        (e.g. from `docker buildx build --push --metadata-file`)
# It replaces the placeholder in deploy/k8s/overlays/prod/kustomization.yaml (commit that on the release tag),
# and refuses anything that is not a sha256 digest or an overlay that is not at its placeholder any more.
set -euo pipefail

digest="${1:?usage: deploy/release.sh sha256:<64 hex digits>}"
overlay="$(cd "$(dirname "$0")" && pwd)/k8s/overlays/prod/kustomization.yaml"
placeholder="sha256:UNRELEASED-run-deploy-release-sh"

if [[ ! "${digest}" =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "release: '${digest}' is not an image digest (sha256: and 64 lowercase hex digits)" >&2
  exit 2
fi
if [[ "$(grep -c "digest: ${placeholder}\$" "${overlay}")" != 1 ]]; then
  echo "release: ${overlay} does not hold the placeholder digest once; was it filled already?" >&2
  exit 1
fi
sed -i "s|digest: ${placeholder}\$|digest: ${digest}|" "${overlay}"
echo "release: production image pinned to ${digest}"
