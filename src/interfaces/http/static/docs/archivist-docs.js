// Archivist's API docs: Swagger UI on the OpenAPI document this server serves
// (interfaces/http/docs_ui.py). No request leaves this origin.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // A search box over the operations (by tag).
    filter: true,
    displayRequestDuration: true,
    // Swagger UI's badge would send the document to validator.swagger.io.
    validatorUrl: null,
    // The token stays in this page's memory, not in localStorage.
    persistAuthorization: false,
  });
})();
