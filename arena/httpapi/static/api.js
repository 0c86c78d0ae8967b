// The API page: Swagger UI (vendored, static/vendor/swagger-ui) over the
// OpenAPI document this server serves. "Try it out" calls this server;
// operations for labs, researchers and the admin need a token (Authorize).
"use strict";
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
  validatorUrl: null, // never send the document to an outside validator
  defaultModelsExpandDepth: 0,
  displayOperationId: true,
  tryItOutEnabled: false,
});
