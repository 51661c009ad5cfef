// A <select data-autosubmit> submits its form when changed (the venue switcher). A static file,
// not an onchange="" attribute: the Content-Security-Policy allows no inline event handlers.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) {
    field.form.requestSubmit();
  }
});
