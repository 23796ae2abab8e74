// The viewer's "Similar documents" panel: asks GET /api/v1/documents/{id}/similar the first time
// the reader opens it (never with the page: the query costs more than the page), then lists each
// match with its dossier, its score and the passage it shares with this document.
(function () {
  "use strict";
  const panel = document.getElementById("similar-panel");
  if (!panel) return;
  const status = panel.querySelector(".similar-status");
  const list = panel.querySelector(".similar-list");
  let asked = false;

  function item(match) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = panel.dataset.viewerBase + match.document;
    link.textContent = `${match.dossier} · ${match.type} ${match.title || ""}`.trim();
    const score = document.createElement("span");
    score.className = "similar-score";
    score.title = panel.dataset.scoreLabel;
    score.textContent = ` ${Math.round(match.score * 100)} %`;
    li.append(link, score);
    const passage = match.reason.passage;
    if (passage) {
      const quote = document.createElement("blockquote");
      quote.textContent = passage.length > 300 ? passage.slice(0, 300) + "…" : passage;
      li.append(quote);
    }
    return li;
  }

  async function load() {
    try {
      const response = await fetch(`${panel.dataset.url}?limit=10`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      const body = await response.json();
      list.replaceChildren(...body.results.map(item));
      status.textContent = body.results.length ? "" : panel.dataset.empty;
    } catch (error) {
      status.textContent = panel.dataset.failed;
      asked = false; // the next opening tries again
    }
  }

  panel.addEventListener("toggle", () => {
    if (panel.open && !asked) {
      asked = true;
      load();
    }
  });
})();
