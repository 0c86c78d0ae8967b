#!/usr/bin/env bash
# Refreshes arena/httpapi/static/vendor from the pinned npm packages in
# package.json/package-lock.json: the arena page's Markdown renderer
# (marked), sanitiser (DOMPurify), highlighter (highlight.js, its
# common-languages browser build) and math typesetter (KaTeX), and the API
# page's Swagger UI (its browser bundle and style sheet), each with its
# licence. Agora has no build step: the copied files are committed and
# embedded as they are. To move a library to a new version, change its pin
# in package.json, run `npm install` here, then this script, and commit.
set -euo pipefail
cd "$(dirname "$0")"
# No install scripts: only files are copied (swagger-ui-dist's dependency
# @scarf/scarf would otherwise phone home from its postinstall).
npm ci --no-audit --no-fund --ignore-scripts
out=../static/vendor
rm -rf "$out"
mkdir -p "$out/marked" "$out/dompurify" "$out/highlight" "$out/katex/fonts" "$out/swagger-ui"
nm=node_modules
cp "$nm/marked/lib/marked.umd.js" "$nm/marked/LICENSE" "$out/marked/"
cp "$nm/dompurify/dist/purify.min.js" "$nm/dompurify/LICENSE" "$nm/dompurify/LICENSE-MPL" "$out/dompurify/"
cp "$nm/@highlightjs/cdn-assets/highlight.min.js" "$nm/@highlightjs/cdn-assets/LICENSE" "$out/highlight/"
cp "$nm/@highlightjs/cdn-assets/styles/a11y-light.min.css" "$nm/@highlightjs/cdn-assets/styles/a11y-dark.min.css" "$out/highlight/"
cp "$nm/katex/dist/katex.min.js" "$nm/katex/dist/katex.min.css" "$nm/katex/LICENSE" "$out/katex/"
cp "$nm"/katex/dist/fonts/*.woff2 "$out/katex/fonts/"
cp "$nm/swagger-ui-dist/swagger-ui-bundle.js" "$nm/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt" \
  "$nm/swagger-ui-dist/swagger-ui.css" "$nm/swagger-ui-dist/LICENSE" "$nm/swagger-ui-dist/NOTICE" "$out/swagger-ui/"
# Source maps are not shipped: strip their references.
sed -i '/^\/\/# sourceMappingURL=/d' "$out"/*/*.js
sed -i 's|/\*# sourceMappingURL=[^*]*\*/||' "$out"/swagger-ui/*.css
for p in marked dompurify @highlightjs/cdn-assets katex swagger-ui-dist; do
  printf '%s %s\n' "$p" "$(node -p "require('./$nm/$p/package.json').version")"
done >"$out/VERSIONS"
cat "$out/VERSIONS"
