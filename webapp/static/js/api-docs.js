// The API's interactive docs: Swagger UI (served from the package) on the OpenAPI
// document named by the page. No inline script: the page's CSP forbids it.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // Swagger UI's spec validator badge would call validator.swagger.io.
    validatorUrl: null,
  });
});
