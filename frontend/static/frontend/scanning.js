// Scanning pages: the batch form uploads with a progress bar (a batch can be hundreds of MB),
// and a batch page being split follows the split's progress until its parts are ready.
(function () {
  "use strict";

  const form = document.getElementById("batch-form");
  if (form) {
    const bar = document.getElementById("batch-upload-progress");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", (progress) => {
        if (progress.lengthComputable) bar.value = (100 * progress.loaded) / progress.total;
      });
      // The server answers with a redirect to the batch page (or back here with a message).
      request.addEventListener("load", () => { window.location.assign(request.responseURL); });
      request.addEventListener("error", () => { form.submit(); });
      bar.hidden = false;
      form.querySelector('button[type="submit"]').disabled = true;
      request.send(new FormData(form));
    });
  }

  const status = document.getElementById("batch-status");
  if (status && status.dataset.polling === "true") {
    const bar = document.getElementById("batch-progress");
    const percent = document.getElementById("batch-percent");
    const poll = () => {
      fetch(status.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((batch) => {
          bar.value = batch.progress;
          percent.textContent = batch.progress + " %";
          if (batch.state !== status.dataset.state) {
            window.location.reload();  // split (or failed): show the parts
            return;
          }
          window.setTimeout(poll, 1000);
        })
        .catch(() => window.setTimeout(poll, 5000));
    };
    window.setTimeout(poll, 1000);
  }
})();
