// After htmx swaps a venue panel back in (a result, the amber banner, a form error), move focus to
// what changed. The button that had focus was replaced with the panel, so without this a keyboard or
// screen-reader user is left at the top of the page with nothing announced.
document.addEventListener("htmx:afterSettle", (event) => {
  const panel = event.target;
  if (!(panel instanceof HTMLElement) || !panel.matches(".panel")) return;
  const target = panel.querySelector(
    ".has-error textarea, .has-error input, .has-error select, .form-errors, .friendly-error, .result, .saved");
  if (!target) return;
  if (!target.matches("textarea, input, select")) target.setAttribute("tabindex", "-1");
  target.focus();
});
