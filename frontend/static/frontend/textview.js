// Documents the browser cannot show: their extracted text (from the ingestion text endpoint).
(function () {
  "use strict";
  const root = document.getElementById("viewer-root");
  const target = document.getElementById("text-view");
  fetch(root.dataset.textUrl, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((text) => { target.textContent = text || target.dataset.unavailable; })
    .catch(() => { target.textContent = target.dataset.unavailable; });
})();
