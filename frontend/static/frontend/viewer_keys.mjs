// The viewer's keyboard shortcuts, listed in its help (viewer.html, "Keyboard shortcuts").
// pdf.js's own keys where it has them (n/j, p/k, +/-, r), so that examiners who know Firefox's
// viewer find them where they expect; "/" to find, as in most web applications; "h" to highlight
// the selected text (as in most PDF readers' highlight tool). Each key presses
// the toolbar's button, so a shortcut does exactly what the button does.
// Keys typed into a field stay the field's, and no key with Ctrl, Alt or Meta is taken: the
// browser's and the screen reader's own shortcuts keep working.

const FIELDS = new Set(["INPUT", "SELECT", "TEXTAREA"]);

export function bindShortcuts({ container, findInput, help, zoomSelect }) {
  // A button the page may not have (notes and highlights are staff's): the key does nothing.
  const press = (id) => document.getElementById(id)?.click();
  const actions = {
    n: () => press("next-page"),
    j: () => press("next-page"),
    p: () => press("prev-page"),
    k: () => press("prev-page"),
    "+": () => press("zoom-in"),
    "=": () => press("zoom-in"),
    "-": () => press("zoom-out"),
    "0": () => {
      zoomSelect.value = "page-width";
      zoomSelect.dispatchEvent(new Event("change"));
    },
    r: () => press("rotate"),
    h: () => press("highlight-selection"),
    "/": () => {
      findInput.focus();
      findInput.select();
    },
    "?": () => {
      help.open = !help.open;
    },
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    const target = event.target;
    if (FIELDS.has(target.tagName) || target.isContentEditable) {
      if (target === findInput && event.key === "Escape") {
        container.focus();
        event.preventDefault();
      }
      return;
    }
    const action = actions[event.key];
    if (action) {
      action();
      event.preventDefault();
    }
  });
}
