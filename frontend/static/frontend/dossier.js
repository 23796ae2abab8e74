// The dossier page: select all rows, and add documents (drag and drop, per-file metadata,
// a progress bar per file, then the processing state polled until it is done).
(function () {
  "use strict";

  const selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", () => {
      for (const box of document.querySelectorAll('#wrapper input[name="document"]')) {
        box.checked = selectAll.checked;
      }
    });
  }

  const section = document.getElementById("add-documents");
  if (!section) return;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const dropzone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const list = document.getElementById("uploads");
  const template = document.getElementById("upload-row");
  const uploadButton = document.getElementById("upload-button");
  const pending = [];
  const NIL_UUID = "00000000-0000-0000-0000-000000000000";
  const message = (name) => section.dataset["msg" + name[0].toUpperCase() + name.slice(1)] || name;

  function addFiles(files) {
    for (const file of files) {
      const row = template.content.firstElementChild.cloneNode(true);
      row.querySelector(".name").textContent = file.name;
      row.dataset.filename = file.name;
      list.append(row);
      pending.push({ file, row });
    }
    uploadButton.disabled = pending.length === 0;
  }

  input.addEventListener("change", () => { addFiles(input.files); input.value = ""; });
  dropzone.addEventListener("dragover", (event) => { event.preventDefault(); dropzone.classList.add("over"); });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("over");
    addFiles(event.dataTransfer.files);
  });

  function showState(row, state) {
    const status = row.querySelector(".status");
    status.textContent = message(state);
    status.className = "status state " + state;
    row.dataset.state = state;
  }

  function poll(row, url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((answer) => {
        const shown = answer.searchable ? "searchable" : answer.state;
        const status = row.querySelector(".status");
        status.textContent = answer.label;
        status.className = "status state " + shown;
        if (answer.quality_warning) {
          // Done, but the text is garbled or missing: say why.
          status.textContent = `${answer.label} — ${answer.quality_warning}`;
          status.classList.add("warning");
        }
        // Failed: the reason, in the user's language, says what to do.
        if (answer.reason) status.textContent = `${answer.label} — ${answer.reason}`;
        row.dataset.state = shown;
        // Until the document can be found by its text (or processing failed for good).
        if (shown !== "searchable" && shown !== "failed") setTimeout(() => poll(row, url), 1000);
      })
      .catch(() => setTimeout(() => poll(row, url), 3000));
  }

  function upload({ file, row }) {
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("type", row.querySelector(".type").value);
    for (const [field, selector] of [["direction", ".direction"], ["official_date", ".date"], ["visibility", ".visibility"]]) {
      const value = row.querySelector(selector).value;
      if (value) form.append(field, value);
    }
    const progress = row.querySelector("progress");
    const request = new XMLHttpRequest();
    request.open("POST", section.dataset.uploadUrl);
    request.setRequestHeader("X-CSRFToken", csrfToken);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = Math.round((100 * event.loaded) / event.total);
    });
    row.querySelector(".status").textContent = message("uploading");
    request.addEventListener("load", () => {
      if (request.status === 201) {
        progress.value = 100;
        const body = JSON.parse(request.responseText);
        row.dataset.document = body.id;
        showState(row, "pending");
        poll(row, section.dataset.stateUrl.replace(NIL_UUID, body.id));
      } else {
        let detail = "";
        try { detail = JSON.parse(request.responseText).detail || ""; } catch (e) { /* not JSON */ }
        row.querySelector(".status").textContent = `${message("failed")}: ${detail || request.status}`;
        row.dataset.state = "failed";
      }
    });
    request.addEventListener("error", () => {
      row.querySelector(".status").textContent = message("failed");
      row.dataset.state = "failed";
    });
    request.send(form);
  }

  uploadButton.addEventListener("click", () => {
    while (pending.length) upload(pending.shift());
    uploadButton.disabled = true;
  });
})();
