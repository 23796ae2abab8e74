// The dossier page: select all rows, move between rows with the arrow keys, a row's first page
// on hover, edit a row in place or drop a file on it (its next version), and add documents (drag and drop, per-file metadata,
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

  // One tab stop for the file wrapper's rows (a roving tabindex): Tab enters the table and
  // leaves it; the arrow keys move between rows (up, down, Home, End) and between a row's
  // checkbox, link and edit button (left, right). Without this, 100 rows are 200 tab stops.
  const wrapper = document.getElementById("wrapper");
  const rows = wrapper ? Array.from(wrapper.querySelectorAll("tbody tr[data-document]")) : [];
  const stopsOf = (row) => Array.from(row.querySelectorAll("input, a, button"));
  let current = null;

  function rove(target) {
    if (current) current.tabIndex = -1;
    target.tabIndex = 0;
    current = target;
  }

  if (wrapper) {
    for (const row of rows) for (const stop of stopsOf(row)) stop.tabIndex = -1;
    if (rows.length) rove(stopsOf(rows[0])[0]);
    wrapper.addEventListener("focusin", (event) => {
      if (event.target.closest("tbody tr[data-document]")) rove(event.target);
    });
    wrapper.addEventListener("keydown", (event) => {
      const row = event.target.closest("tbody tr[data-document]");
      if (!row) return;
      const stops = stopsOf(row);
      const column = Math.max(0, stops.indexOf(event.target));
      const at = rows.indexOf(row);
      const moves = {
        ArrowDown: [Math.min(rows.length - 1, at + 1), column],
        ArrowUp: [Math.max(0, at - 1), column],
        Home: [0, column],
        End: [rows.length - 1, column],
        ArrowRight: [at, Math.min(stops.length - 1, column + 1)],
        ArrowLeft: [at, Math.max(0, column - 1)],
      };
      if (document.documentElement.dir === "rtl") {
        [moves.ArrowRight, moves.ArrowLeft] = [moves.ArrowLeft, moves.ArrowRight];
      }
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      const targetStops = stopsOf(rows[move[0]]);
      const target = targetStops[Math.min(move[1], targetStops.length - 1)];
      rove(target);
      target.focus();
    });
  }

  // The first page of a document, shown on hover or focus of its row: fetched only then (the
  // rows carry the latest version's number; the URL is made here), so a page of rows costs no
  // image bytes until one is looked at.
  if (wrapper && wrapper.dataset.thumbnailUrl) {
    const NIL = "00000000-0000-0000-0000-000000000000";
    const preview = document.createElement("img");
    preview.className = "thumbnail-preview";
    preview.hidden = true;
    preview.alt = wrapper.dataset.thumbnailLabel || "";
    preview.width = 160;
    document.body.append(preview);
    const show = (event) => {
      const row = event.target.closest("tr[data-thumbnail]");
      if (!row) return;
      const url = wrapper.dataset.thumbnailUrl
        .replace(NIL, row.dataset.document)
        .replace("/versions/1/", `/versions/${row.dataset.thumbnail}/`);
      preview.src = `${url}?disposition=inline`;
      const box = row.getBoundingClientRect();
      preview.style.top = `${window.scrollY + box.bottom + 4}px`;
      preview.style.left = `${window.scrollX + box.left + 48}px`;
      preview.hidden = false;
    };
    const hide = (event) => {
      const row = event.target.closest("tr[data-thumbnail]");
      if (row && !row.contains(event.relatedTarget)) preview.hidden = true;
    };
    wrapper.addEventListener("mouseover", show);
    wrapper.addEventListener("focusin", show);
    wrapper.addEventListener("mouseout", hide);
    wrapper.addEventListener("focusout", hide);
  }

  // Edit in place. The same forms the viewer posts (frontend/views/editing.py), sent with
  // fetch so that the row is drawn anew from the server's answer; a refusal shows its message
  // and changes nothing. Only those who may edit get the dialog and the rows' edit buttons; only
  // those who may file get rows that take a dropped file as the next version.
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const NIL_UUID = "00000000-0000-0000-0000-000000000000";
  const wrapperStatus = document.getElementById("wrapper-status");

  function say(text, isError) {
    if (!wrapperStatus) return;
    wrapperStatus.textContent = text;
    wrapperStatus.classList.toggle("error", Boolean(isError));
  }

  function rowFromHtml(html) {
    const holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    return holder.querySelector("tr[data-document]");
  }

  // A row drawn anew (or added): it takes the roving tabindex's rules and a dropped file.
  function adopt(row) {
    for (const stop of stopsOf(row)) stop.tabIndex = -1;
    if (!rows.includes(row)) rows.push(row);
    if (!current) rove(stopsOf(row)[0]);
  }

  function replaceRow(old, html) {
    const fresh = html ? rowFromHtml(html) : null;
    const at = rows.indexOf(old);
    const held = current && old.contains(current);
    if (fresh) {
      for (const stop of stopsOf(fresh)) stop.tabIndex = -1;
      old.replaceWith(fresh);
      if (at >= 0) rows[at] = fresh;
      if (held) rove(stopsOf(fresh)[0]);
    } else {
      old.remove();
      if (at >= 0) rows.splice(at, 1);
    }
    if (current && !document.contains(current)) {
      current = null;
      if (rows.length) rove(stopsOf(rows[0])[0]);
    }
  }

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken },
    }).then((response) =>
      response
        .json()
        .catch(() => ({ message: `${response.status} ${response.statusText}` }))
        .then((answer) => ({ ok: response.ok, answer })),
    );
  }

  const editor = document.getElementById("row-editor");
  if (editor && wrapper) {
    wrapper.classList.add("editable");  // the rows' edit buttons work now: show them
    const editorError = document.getElementById("row-editor-error");
    let editing = null;
    const urls = {
      edit: editor.dataset.editUrl,
      move: editor.dataset.moveUrl,
      cancel: editor.dataset.cancelUrl,
    };
    wrapper.addEventListener("click", (event) => {
      const button = event.target.closest("button.edit");
      if (!button) return;
      editing = button.closest("tr[data-document]");
      const form = editor.querySelector('form[data-kind="edit"]');
      form.elements.type.value = editing.dataset.type;
      form.elements.official_date.value = editing.dataset.date;
      form.elements.title.value = editing.dataset.title;
      form.elements.visibility.value = editing.dataset.visibility;
      for (const other of editor.querySelectorAll("form:not([data-kind=edit])")) other.reset();
      document.getElementById("row-editor-name").textContent =
        editing.querySelector("td:nth-child(5) a").textContent;
      editorError.hidden = true;
      editor.showModal();
    });
    document.getElementById("row-editor-close").addEventListener("click", () => editor.close());
    editor.addEventListener("close", () => {
      const button = editing && document.contains(editing) ? editing.querySelector("button.edit") : null;
      if (button) button.focus();
    });
    editor.addEventListener("submit", (event) => {
      const form = event.target;
      if (!editing || !urls[form.dataset.kind]) return;
      event.preventDefault();
      const url = urls[form.dataset.kind].replace(NIL_UUID, editing.dataset.document);
      send(url, new FormData(form))
        .then(({ ok, answer }) => {
          if (!ok) {
            editorError.textContent = answer.message;
            editorError.hidden = false;
            return;
          }
          const row = editing;
          replaceRow(row, answer.row);
          editing = answer.row ? wrapper.querySelector(`tr[data-document="${row.dataset.document}"]`) : null;
          editor.close();
          say(answer.message);
        })
        .catch(() => {
          editorError.textContent = editor.dataset.msgFailed;
          editorError.hidden = false;
        });
    });
  }

  // A file dropped on a row: the document's next version.
  if (wrapper && wrapper.dataset.versionUrl) {
    const target = (event) => {
      const row = event.target.closest("tbody tr[data-document]");
      return row && !row.classList.contains("cancelled") ? row : null;
    };
    wrapper.addEventListener("dragover", (event) => {
      const row = target(event);
      if (!row || !event.dataTransfer.types.includes("Files")) return;
      event.preventDefault();
      row.classList.add("drop-target");
    });
    wrapper.addEventListener("dragleave", (event) => {
      const row = target(event);
      if (row && !row.contains(event.relatedTarget)) row.classList.remove("drop-target");
    });
    wrapper.addEventListener("drop", (event) => {
      const row = target(event);
      if (!row) return;
      event.preventDefault();
      row.classList.remove("drop-target");
      const file = event.dataTransfer.files[0];
      if (!file) return;
      const body = new FormData();
      body.append("file", file, file.name);
      say(wrapper.dataset.msgAdding);
      send(wrapper.dataset.versionUrl.replace(NIL_UUID, row.dataset.document), body).then(
        ({ ok, answer }) => {
          if (ok) replaceRow(row, answer.row);
          say(answer.message, !ok);
        },
      );
    });
  }

  // A document filed by the upload form joins the file wrapper, without a reload.
  function addRow(documentId) {
    if (!wrapper || !wrapper.dataset.rowUrl) return;
    fetch(wrapper.dataset.rowUrl.replace(NIL_UUID, documentId), { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : ""))
      .then((html) => {
        const row = html ? rowFromHtml(html) : null;
        if (!row || wrapper.querySelector(`tr[data-document="${documentId}"]`)) return;
        const body = wrapper.tBodies[0];
        if (!body.querySelector("tr[data-document]")) body.replaceChildren();  // "No document matches."
        body.append(row);
        adopt(row);
      });
  }

  // The processing state polled for an upload is shown in its file-wrapper row too.
  function showRowState(documentId, code, label) {
    const cell = wrapper && wrapper.querySelector(`tr[data-document="${documentId}"] .state`);
    if (!cell) return;
    cell.className = "state " + code;
    cell.textContent = label;
  }

  const section = document.getElementById("add-documents");
  if (!section) return;
  const dropzone = document.getElementById("dropzone");
  const input = document.getElementById("file-input");
  const list = document.getElementById("uploads");
  const template = document.getElementById("upload-row");
  const uploadButton = document.getElementById("upload-button");
  const pending = [];
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
        showRowState(row.dataset.document, answer.state, answer.label);
        // Until the document can be found by its text (or processing failed for good).
        if (shown !== "searchable" && shown !== "failed") setTimeout(() => poll(row, url), 1000);
      })
      .catch(() => setTimeout(() => poll(row, url), 3000));
  }

  function upload({ file, row }) {
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("type", row.querySelector(".type").value);
    for (const [field, selector] of [["direction", ".direction"], ["official_date", ".date"], ["visibility", ".visibility"], ["title", ".title"]]) {
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
        addRow(body.id);
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
