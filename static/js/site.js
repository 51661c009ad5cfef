// Small behaviours every page shares, kept out of the HTML so a strict Content-Security-Policy holds.
"use strict";

// <button data-copy="#id"> copies that element's text (a textarea's current value) to the clipboard;
// <button data-copy-text="…"> copies the text it carries. The button says "Copied" for a moment.
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const scratch = document.createElement("textarea");  // older browsers and plain-http hosts
  scratch.value = text;
  scratch.setAttribute("readonly", "");
  scratch.style.position = "fixed";
  scratch.style.opacity = "0";
  document.body.append(scratch);
  scratch.select();
  document.execCommand("copy");
  scratch.remove();
}

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy], [data-copy-text]") : null;
  if (!button) return;
  const source = button.hasAttribute("data-copy") ? document.querySelector(button.dataset.copy) : null;
  const text = source ? ("value" in source ? source.value : source.textContent) : button.dataset.copyText;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  try {
    await copyText(text || "");
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select and copy it instead";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});
