import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { API_PREFIX } from "../../shared/api/route.ts";

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** Everything the page loads comes from this gateway: no CDN, no validator badge, no telemetry. */
export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Goal tracker API</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${API_PREFIX}/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${API_PREFIX}/docs/assets/swagger-ui-bundle.js"></script>
    <script src="${API_PREFIX}/docs/assets/docs.js"></script>
  </body>
</html>
`;

const DOCS_SCRIPT = `window.ui = SwaggerUIBundle({
  url: "${API_PREFIX}/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
});
`;

export interface DocsAsset {
  contentType: string;
  body: string;
}

const ASSETS: Record<string, { file?: string; contentType: string }> = {
  "swagger-ui.css": { file: "swagger-ui.css", contentType: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { file: "swagger-ui-bundle.js", contentType: "text/javascript; charset=utf-8" },
  "docs.js": { contentType: "text/javascript; charset=utf-8" },
};

const cache = new Map<string, DocsAsset>();

export async function docsAsset(name: string): Promise<DocsAsset | null> {
  const spec = ASSETS[name];
  if (!spec) return null;
  let asset = cache.get(name);
  if (!asset) {
    const body = spec.file ? await readFile(path.join(swaggerDir, spec.file), "utf8") : DOCS_SCRIPT;
    asset = { contentType: spec.contentType, body };
    cache.set(name, asset);
  }
  return asset;
}
