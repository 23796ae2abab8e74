// The PDF viewer: pdf.js (self-hosted from pdfjs-dist) with page navigation, zoom, rotation,
// find (search hits arrive with their terms and page), thumbnails and download.
// Large files open on their first page: pdf.js fetches byte ranges from the content endpoint
// (which answers `Range`) instead of the whole file (`RangeTransport`), and nothing else competes with the first
// page: thumbnails and the search terms' highlighting (which reads every page's text, and so
// every page's bytes in a scan) start once it is painted.
// Before that, the page it opens on is shown as an image the server rendered (a few tens of
// kilobytes, where pdf.js may need a tenth of a long PDF's bytes for its first page): pdf.js
// starts fetching once the image is there, so the two do not share the connection, and draws
// the page over it; the image is removed once pdf.js has drawn that page.
import "../vendor/pdfjs/build/pdf.min.mjs";
import {
  EventBus,
  PDFFindController,
  PDFLinkService,
  PDFViewer,
} from "../vendor/pdfjs/web/pdf_viewer.mjs";
import { bindAnnotations } from "./annotations.mjs";
import { bindShortcuts } from "./viewer_keys.mjs";

const pdfjsLib = globalThis.pdfjsLib;
const root = document.getElementById("viewer-root");
const container = document.getElementById("viewer-container");
const pageInput = document.getElementById("page-number");
const pageCount = document.getElementById("page-count");
const zoomSelect = document.getElementById("zoom");
const findInput = document.getElementById("find");
const findStatus = document.getElementById("find-status");
const thumbnails = document.getElementById("thumbnails");

pdfjsLib.GlobalWorkerOptions.workerSrc = root.dataset.worker;

const eventBus = new EventBus();
const linkService = new PDFLinkService({ eventBus });
const findController = new PDFFindController({ eventBus, linkService });
const viewer = new PDFViewer({
  container,
  viewer: document.getElementById("pdf-viewer"),
  eventBus,
  linkService,
  findController,
  textLayerMode: 1,
});
linkService.setViewer(viewer);

const wantedPage = Number(root.dataset.page) || 1;
const terms = root.dataset.terms || "";

function find(query, again = false) {
  if (!query) return;
  eventBus.dispatch("find", {
    source: window,
    type: again ? "again" : "",
    query,
    caseSensitive: false,
    entireWord: false,
    highlightAll: true,
    findPrevious: false,
    matchDiacritics: false,
  });
}

let pdfPainted = null;
const painted = new Promise((resolve) => { pdfPainted = resolve; });

// The first paint of the document, whichever comes first: the server's image of the page, or
// pdf.js's drawing of a page (`data-first-paint-by`: "image" or "pdf").
function reportFirstPaint(pageNumber, by) {
  if (root.dataset.firstPaint) return;
  root.dataset.firstPaint = String(pageNumber);
  root.dataset.firstPaintBy = by;
}

const standIn = document.getElementById("first-paint");
const standInImage = standIn?.querySelector("img");
// Resolves once the image is on screen (true) or will not be (false: none, or it failed).
const imageShown = new Promise((resolve) => {
  if (!standInImage) return resolve(false);
  const shown = () => {
    // Not if it came too late: pdf.js laid out its pages without it (see `moveStandIn`).
    if (standInImage.isConnected) reportFirstPaint(wantedPage, "image");
    resolve(true);
  };
  const failed = () => {
    standIn.remove();
    resolve(false);
  };
  if (standInImage.complete) {
    if (standInImage.naturalWidth > 0) shown(); else failed();
    return;
  }
  standInImage.addEventListener("load", shown, { once: true });
  standInImage.addEventListener("error", failed, { once: true });
});

// pdf.js has laid out its pages: the image goes into the page it shows, so it stays where the
// page is (sized by pdf.js) until pdf.js has drawn it.
function moveStandIn(pageNumber) {
  if (!standIn?.isConnected) return;
  const pageView = viewer.getPageView(pageNumber - 1);
  if (pageView && standInImage.naturalWidth > 0) {
    standInImage.className = "page-stand-in";
    pageView.div.prepend(standInImage);
  }
  standIn.remove();
}

eventBus.on("pagesinit", () => {
  viewer.currentScaleValue = zoomSelect.value;
  if (wantedPage > 1) viewer.currentPageNumber = Math.min(wantedPage, viewer.pagesCount);
  moveStandIn(wantedPage);
  painted.then(() => {
    if (!terms) return;
    // Highlight the search terms without moving away from the page the hit is on.
    const page = viewer.currentPageNumber;
    eventBus.dispatch("find", {
      source: window, type: "", query: terms, caseSensitive: false, entireWord: false,
      highlightAll: true, findPrevious: false, matchDiacritics: false,
    });
    viewer.currentPageNumber = page;
  });
  root.dataset.ready = "true";
});
// The first page drawn (the one asked for, or whichever is on screen): the document is seen.
eventBus.on("pagerendered", ({ pageNumber, source }) => {
  source.div.querySelector(":scope > .page-stand-in")?.remove();
  reportFirstPaint(pageNumber, "pdf");
  if (root.dataset.pdfPaint) return;
  root.dataset.pdfPaint = String(pageNumber);
  pdfPainted();
});
// Turned, the image would show the page the wrong way round: pdf.js draws it again anyway.
eventBus.on("rotationchanging", () => {
  for (const image of container.querySelectorAll(".page-stand-in")) image.remove();
});
eventBus.on("pagechanging", (event) => {
  pageInput.value = event.pageNumber;
  root.dataset.currentPage = String(event.pageNumber);
  for (const button of thumbnails.querySelectorAll("button")) {
    button.toggleAttribute("aria-current", Number(button.dataset.page) === event.pageNumber);
    if (button.hasAttribute("aria-current")) button.setAttribute("aria-current", "page");
  }
});
eventBus.on("updatefindmatchescount", ({ matchesCount }) => {
  findStatus.textContent = matchesCount.total ? `${matchesCount.current}/${matchesCount.total}` : "";
});
eventBus.on("updatefindcontrolstate", ({ matchesCount }) => {
  if (matchesCount) {
    findStatus.textContent = matchesCount.total ? `${matchesCount.current}/${matchesCount.total}` : "0";
  }
});

document.getElementById("prev-page").addEventListener("click", () => viewer.previousPage());
document.getElementById("next-page").addEventListener("click", () => viewer.nextPage());
pageInput.addEventListener("change", () => {
  const number = Number(pageInput.value);
  if (number >= 1 && number <= viewer.pagesCount) viewer.currentPageNumber = number;
});
zoomSelect.addEventListener("change", () => { viewer.currentScaleValue = zoomSelect.value; });
document.getElementById("zoom-in").addEventListener("click", () => {
  viewer.currentScale = Math.min(viewer.currentScale * 1.25, 8);
});
document.getElementById("zoom-out").addEventListener("click", () => {
  viewer.currentScale = Math.max(viewer.currentScale / 1.25, 0.2);
});
document.getElementById("rotate").addEventListener("click", () => {
  viewer.pagesRotation = (viewer.pagesRotation + 90) % 360;
});
findInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") find(findInput.value, false);
});
document.getElementById("find-next").addEventListener("click", () => find(findInput.value, true));
bindShortcuts({ container, findInput, help: document.getElementById("viewer-help"), zoomSelect });
bindAnnotations({ viewer, eventBus, container });

function renderThumbnails(pdf) {
  // Placeholders for every page; a thumbnail is drawn only when it scrolls into view, so a
  // 500-page scan does not fetch every page's bytes just to draw its thumbnails.
  const draw = async (button) => {
    const page = await pdf.getPage(Number(button.dataset.page));
    const viewport = page.getViewport({ scale: 1 });
    const small = page.getViewport({ scale: 110 / viewport.width });
    const canvas = button.querySelector("canvas");
    canvas.width = Math.floor(small.width);
    canvas.height = Math.floor(small.height);
    await page.render({ canvas, viewport: small }).promise;
  };
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      draw(entry.target).catch(() => {});
    }
  }, { root: thumbnails, rootMargin: "200px" });
  for (let number = 1; number <= pdf.numPages; number++) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.page = String(number);
    button.setAttribute("aria-label", `${number}`);
    button.addEventListener("click", () => { viewer.currentPageNumber = number; });
    const canvas = document.createElement("canvas");
    canvas.width = 110;
    canvas.height = 140;
    button.append(canvas, document.createTextNode(String(number)));
    thumbnails.append(button);
  }
  painted.then(() => {
    for (const button of thumbnails.querySelectorAll("button")) observer.observe(button);
  });
}

// 64 KiB (pdf.js's default): the header, the cross-reference table at the end and the first
// page's objects are each one or two small requests.
const CHUNK = 65536;

// pdf.js's own loader starts with a request for the whole file, cancelled once its headers
// show that the server answers ranges; what arrived by then (up to a few hundred kilobytes)
// is wasted. Asking for the first chunk as a range instead gives the file's length (from
// `Content-Range`) and its first bytes at once; every other range is asked for as pdf.js needs it.
class RangeTransport extends pdfjsLib.PDFDataRangeTransport {
  constructor(url, length, firstBytes) {
    super(length, firstBytes);
    this.url = url;
  }

  requestDataRange(begin, end) {
    fetchBytes(this.url, `bytes=${begin}-${end - 1}`).then(
      ({ bytes }) => this.onDataRange(begin, bytes),
      (error) => { root.dataset.error = String(error); },
    );
  }
}

async function fetchBytes(url, range) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Range: range } });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return { response, bytes: new Uint8Array(await response.arrayBuffer()) };
}

async function openDocument(url) {
  const options = {
    cMapUrl: root.dataset.cmaps,
    cMapPacked: true,
    standardFontDataUrl: root.dataset.fonts,
    wasmUrl: root.dataset.wasm,
    isEvalSupported: false,
    rangeChunkSize: CHUNK,
    // Only the ranges pages on screen need: no fetching of the rest in the background.
    disableAutoFetch: true,
    disableStream: true,
  };
  const { response, bytes } = await fetchBytes(url, `bytes=0-${CHUNK - 1}`);
  const total = /\/(\d+)$/.exec(response.headers.get("Content-Range") || "");
  if (response.status !== 206 || !total || Number(total[1]) <= bytes.length) {
    // The whole file came (a small one, or a server without ranges).
    return pdfjsLib.getDocument({ ...options, data: bytes }).promise;
  }
  const range = new RangeTransport(url, Number(total[1]), bytes);
  return pdfjsLib.getDocument({ ...options, range }).promise;
}

// However long the image takes, pdf.js waits for it no more than this (ms).
const IMAGE_WAIT = 3000;
const imageOrTimeout = Promise.race([
  imageShown,
  new Promise((resolve) => { setTimeout(resolve, IMAGE_WAIT); }),
]);

imageOrTimeout.then(() => openDocument(root.dataset.url)).then(
  (pdf) => {
    pageCount.textContent = pdf.numPages;
    pageInput.max = pdf.numPages;
    viewer.setDocument(pdf);
    linkService.setDocument(pdf, null);
    renderThumbnails(pdf);
  },
  (error) => {
    root.dataset.error = String(error);
    container.textContent = String(error);
  },
);
