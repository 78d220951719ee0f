#!/usr/bin/env bash
# Rebuild offline.html: DVC's `dvc plots show` page with Vega, Vega-Lite and Vega-Embed inlined
# from their npm packages (pinned below), so that the plots render without network access.
# The licenses go to licenses/. Run from anywhere: bash .dvc/plots/build_template.sh
set -euo pipefail
VEGA=5.33.1        # vega@5: the major version of DVC's own page (dvc_render)
VEGA_LITE=5.23.0   # vega-lite@5
VEGA_EMBED=6.29.0  # vega-embed@6
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
# vega 5's tarballs ship no LICENSE file: vega-scale 8 (same repository, vega/vega, same
# BSD-3-Clause license) carries the repository's text
LICENSE_FROM=vega-scale@8.1.3
npm pack --silent "vega@$VEGA" "vega-lite@$VEGA_LITE" "vega-embed@$VEGA_EMBED" "$LICENSE_FROM" >/dev/null
for tarball in *.tgz; do mkdir "${tarball%.tgz}" && tar -xzf "$tarball" -C "${tarball%.tgz}"; done
mkdir -p "$here/licenses"
cp "${LICENSE_FROM/@/-}/package/LICENSE" "$here/licenses/vega.LICENSE"
cp "vega-lite-$VEGA_LITE/package/LICENSE" "$here/licenses/vega-lite.LICENSE"
cp "vega-embed-$VEGA_EMBED/package/LICENSE" "$here/licenses/vega-embed.LICENSE"
script() {  # name version file: one inline <script> with a provenance comment
  printf '<script>/* %s@%s (BSD-3-Clause, .dvc/plots/licenses/%s.LICENSE) */\n' "$1" "$2" "$1"
  cat "$3"
  printf '\n</script>\n'
}
{
  cat <<'HTML'
<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC Plot</title>
    <!-- offline: the libraries are inlined below instead of DVC's CDN script tags -->
HTML
  script vega "$VEGA" "vega-$VEGA/package/build/vega.min.js"
  script vega-lite "$VEGA_LITE" "vega-lite-$VEGA_LITE/package/build/vega-lite.min.js"
  script vega-embed "$VEGA_EMBED" "vega-embed-$VEGA_EMBED/package/build/vega-embed.min.js"
  cat <<'HTML'
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
HTML
} >"$here/offline.html.tmp"
mv "$here/offline.html.tmp" "$here/offline.html"
echo "wrote $here/offline.html ($(wc -c <"$here/offline.html") bytes)"
