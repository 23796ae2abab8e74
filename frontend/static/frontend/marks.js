// The similar-marks page (/marks/similar): an image dropped on the drop zone is the query, as one
// chosen with the file input, and the form is sent at once (the label alone would let the
// browser open the dropped file instead). Choosing with the keyboard needs no script.
(function () {
  "use strict";
  const form = document.getElementById("mark-query");
  if (!form) return;
  const dropzone = form.querySelector(".dropzone");
  const input = document.getElementById("mark-image");
  dropzone.addEventListener("dragover", (event) => { event.preventDefault(); dropzone.classList.add("over"); });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("over");
    if (!event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    form.requestSubmit();
  });
})();
