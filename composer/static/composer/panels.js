// Venue pages: what happens after an htmx request from a form (Composer, editor, menu import,
// AI settings, Library search).

// After htmx swaps a panel back in (a result, the amber banner, a form error), move focus to what
// changed. The button that had focus was replaced with the panel, so without this a keyboard or
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

// htmx swaps only 2xx answers. Without this, a request that gets no usable answer (a proxy
// timeout, a crash, a lost connection, an expired CSRF token) would end in silence: the spinner
// stops and nothing else happens. Show the calm amber banner instead (the component's markup, from
// the page's <template>), with what went wrong in its technical details.
function showNoAnswer(event) {
  const form = event.detail.elt instanceof Element ? event.detail.elt.closest("form") : null;
  const template = document.getElementById("no-answer-banner");
  if (!form || !template) return;
  const banner = template.content.firstElementChild.cloneNode(true);
  const xhr = event.detail.xhr;
  const path = event.detail.pathInfo ? event.detail.pathInfo.requestPath : form.getAttribute("action");
  const detail = xhr && xhr.status ? `HTTP ${xhr.status}` : "no response (connection lost or timed out)";
  banner.querySelector("pre").textContent = `${path}: ${detail}`;
  form.parentElement.querySelectorAll(":scope > .friendly-error").forEach((old) => old.remove());
  form.after(banner);
  banner.setAttribute("tabindex", "-1");
  banner.focus();
}
document.addEventListener("htmx:responseError", showNoAnswer);
document.addEventListener("htmx:sendError", showNoAnswer);
