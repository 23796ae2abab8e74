// The compare page's visual compare: the same page of both sides' PDFs (a scan's PDF/A, the
// redacted copy for a reader of it) drawn side by side by pdf.js, and a third canvas showing
// where they differ (white where they agree). pdf.js fetches byte ranges, so page 40 of two
// large scans costs two pages, not two files. Pages are paired as the text compare paired them
// (`data-pairing`: [old, new] page numbers, null where a page is new or was removed), when the
// texts' pages are the PDFs' pages; otherwise (an image-only scan, no text) page N with page N.
import "../vendor/pdfjs/build/pdf.min.mjs";

const pdfjsLib = globalThis.pdfjsLib;
const root = document.getElementById("compare-pages");
const pageInput = document.getElementById("compare-page");
const state = document.getElementById("compare-page-state");
const canvases = {
  left: document.getElementById("compare-left-canvas"),
  right: document.getElementById("compare-right-canvas"),
  difference: document.getElementById("compare-difference-canvas"),
};
const numbers = {
  left: document.getElementById("compare-left-number"),
  right: document.getElementById("compare-right-number"),
};
// Each side's page is drawn this many CSS pixels wide (the figures are a third of the page).
const WIDTH = 420;

pdfjsLib.GlobalWorkerOptions.workerSrc = root.dataset.worker;

function open(url) {
  return pdfjsLib.getDocument({
    url,
    withCredentials: true,
    rangeChunkSize: 262144,
    disableAutoFetch: true,
    disableStream: true,
    cMapUrl: root.dataset.cmaps,
    cMapPacked: true,
    standardFontDataUrl: root.dataset.fonts,
    wasmUrl: root.dataset.wasm,
    isEvalSupported: false,
  }).promise;
}

async function draw(pdf, number, canvas) {
  const context = canvas.getContext("2d");
  if (number === null || number > pdf.numPages) {
    canvas.width = WIDTH;
    canvas.height = 60;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = "#333";
    context.font = "16px sans-serif";
    context.fillText(root.dataset.missing, 12, 36);
    return;
  }
  const page = await pdf.getPage(number);
  const unscaled = page.getViewport({ scale: 1 });
  const viewport = page.getViewport({ scale: WIDTH / unscaled.width });
  canvas.width = Math.round(viewport.width);
  canvas.height = Math.round(viewport.height);
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  await page.render({ canvasContext: context, viewport }).promise;
}

// Left, then the right drawn over it with "difference" (black where equal), then inverted
// with a white "difference" fill: white where the pages agree, dark where they do not.
function difference() {
  const { left, right, difference: out } = canvases;
  out.width = Math.max(left.width, right.width);
  out.height = Math.max(left.height, right.height);
  const context = out.getContext("2d");
  context.globalCompositeOperation = "source-over";
  context.fillStyle = "#fff";
  context.fillRect(0, 0, out.width, out.height);
  context.drawImage(left, 0, 0);
  context.globalCompositeOperation = "difference";
  context.drawImage(right, 0, 0);
  context.fillStyle = "#fff";
  context.fillRect(0, 0, out.width, out.height);
  context.globalCompositeOperation = "source-over";
  const pixels = context.getImageData(0, 0, out.width, out.height).data;
  let differing = 0;
  for (let index = 0; index < pixels.length; index += 4) {
    if (pixels[index] < 250 || pixels[index + 1] < 250 || pixels[index + 2] < 250) differing += 1;
  }
  // For the reader's status line and for tests: how many pixels differ.
  root.dataset.differingPixels = String(differing);
}

const documents = Promise.all([open(root.dataset.leftUrl), open(root.dataset.rightUrl)]);

// The text's pairing, if it covers exactly both PDFs' pages (each side's numbers 1..numPages).
function textPairing(left, right) {
  if (!root.dataset.pairing) return null;
  const rows = JSON.parse(root.dataset.pairing);
  const covers = (side, count) => {
    const seen = rows.map((row) => row[side]).filter((number) => number !== null);
    return seen.length === count && seen.every((number) => number >= 1 && number <= count);
  };
  return covers(0, left.numPages) && covers(1, right.numPages) ? rows : null;
}

let rows = null;
async function pairing() {
  if (rows === null) {
    const [left, right] = await documents;
    rows = textPairing(left, right);
    root.dataset.pairedBy = rows ? "text" : "number";
    if (rows === null) {
      const count = Math.max(left.numPages, right.numPages);
      rows = Array.from({ length: count }, (_, index) => [index + 1, index + 1]);
    }
  }
  return rows;
}

async function show(number) {
  const [left, right] = await documents;
  const steps = await pairing();
  const last = steps.length;
  const wanted = Math.min(Math.max(1, number), last);
  const [oldPage, newPage] = steps[wanted - 1];
  pageInput.max = String(last);
  pageInput.value = String(wanted);
  root.dataset.shownPage = "";
  await Promise.all([draw(left, oldPage, canvases.left), draw(right, newPage, canvases.right)]);
  difference();
  numbers.left.textContent = oldPage === null ? "—" : String(oldPage);
  numbers.right.textContent = newPage === null ? "—" : String(newPage);
  root.dataset.leftPage = oldPage === null ? "" : String(oldPage);
  root.dataset.rightPage = newPage === null ? "" : String(newPage);
  state.textContent = `${wanted} / ${last}`;
  root.dataset.shownPage = String(wanted);
}

// One drawing at a time: pdf.js refuses two renders into the same canvas.
let drawing = Promise.resolve();
function go(number) {
  drawing = drawing
    .then(() => show(number))
    .catch((error) => {
      state.textContent = String(error.message || error);
    });
}

pageInput.addEventListener("change", () => go(Number(pageInput.value)));
document
  .getElementById("compare-previous-page")
  .addEventListener("click", () => go(Number(pageInput.value) - 1));
document
  .getElementById("compare-next-page")
  .addEventListener("click", () => go(Number(pageInput.value) + 1));
go(1);
