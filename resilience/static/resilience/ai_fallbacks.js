/* Super Admin → AI Fallbacks: client-side editing of one tab's chain until "Save changes".
   Reorder, add and delete move cards in the DOM (DOM order = priority); the provider chip, the
   enable toggle, the model dropdown and the env key re-render the card server-side (htmx) from
   its current values.
   Nothing is written before the form is submitted. */
(function () {
  "use strict";
  const root = document.getElementById("ai-fallbacks");
  if (!root) return;
  const list = document.getElementById("fb-cards");
  const form = document.getElementById("chain-form");
  const cardUrl = root.dataset.cardUrl;
  const live = document.getElementById("fb-live");
  let dirty = root.dataset.dirty === "1";
  let leaving = false;

  function setDirty(value) {
    dirty = value;
    document.getElementById("fb-dirty").hidden = !value;
  }

  function announce(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function cards() { return Array.from(list.querySelectorAll(":scope > .fb-card")); }

  function labelOf(card) {
    const input = card.querySelector("input[name=label]");
    return (input && input.value.trim()) || "candidate";
  }

  // Numbers, first/last arrow state and the icon buttons' accessible names follow DOM order.
  function renumber() {
    const all = cards();
    all.forEach(function (card, i) {
      card.querySelectorAll(".fb-prio-n").forEach(function (el) { el.textContent = String(i + 1); });
      const label = labelOf(card);
      const up = card.querySelector("[data-action=up]");
      const down = card.querySelector("[data-action=down]");
      up.disabled = i === 0;
      down.disabled = i === all.length - 1;
      up.setAttribute("aria-label", "Move " + label + " up");
      down.setAttribute("aria-label", "Move " + label + " down");
      card.querySelector("[data-action=delete]").setAttribute("aria-label", "Delete " + label);
      card.querySelector(".fb-title").textContent = "Candidate " + (i + 1) + ": " + label;
    });
    document.getElementById("fb-empty").hidden = all.length > 0;
  }

  const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function cardValues(card, extra) {
    const values = {};
    card.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      values[el.name] = el.value;
    });
    return Object.assign(values, extra || {});
  }

  // Edits typed while a card is being re-rendered (tab from the env key into the base URL and
  // type at once) must survive the swap: remember what each refresh sent, and carry over into the
  // new card whatever the admin changed since. Hidden fields (provider, enabled) are not carried:
  // they change only by clicks, which send their own refresh.
  const CARRIED = ["label", "model_choice", "model_other", "env_key", "base_url", "notes"];
  const sent = {};  // uid → the card's values when its refresh was sent
  const carried = {};  // uid → edits to put into its re-rendered card

  // POST, not GET: half-typed base URLs and notes stay out of URLs and access logs.
  function refresh(card, extra) {
    sent[card.dataset.uid] = cardValues(card);
    return htmx.ajax("POST", cardUrl, {
      target: card, swap: "outerHTML", values: cardValues(card, extra),
      headers: { "X-CSRFToken": csrfToken },
    });
  }

  function move(card, direction, button) {
    if (direction === "up" && card.previousElementSibling) {
      list.insertBefore(card, card.previousElementSibling);
    } else if (direction === "down" && card.nextElementSibling) {
      list.insertBefore(card.nextElementSibling, card);
    } else {
      return;
    }
    renumber();
    setDirty(true);
    // Keep the keyboard where it was; if that arrow is now disabled, use the other one.
    const other = card.querySelector(direction === "up" ? "[data-action=down]" : "[data-action=up]");
    (button.disabled ? other : button).focus();
    announce(labelOf(card) + " moved to position " + (cards().indexOf(card) + 1));
  }

  function remove(card) {
    const next = card.nextElementSibling || card.previousElementSibling;
    const label = labelOf(card);
    card.remove();
    renumber();
    setDirty(true);
    const target = next ? next.querySelector("[data-action=delete]") : document.getElementById("fb-add");
    target.focus();
    announce(label + " removed. Save changes to keep this.");
  }

  list.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const card = button.closest(".fb-card");
    const action = button.dataset.action;
    if (action === "up" || action === "down") {
      move(card, action, button);
    } else if (action === "delete") {
      remove(card);
    } else if (action === "toggle") {
      const enabled = card.querySelector("input[name=enabled]");
      enabled.value = enabled.value === "1" ? "0" : "1";
      setDirty(true);
      refresh(card);
    } else if (action === "provider") {
      if (button.getAttribute("aria-pressed") === "true") return;
      card.querySelector("input[name=provider]").value = button.dataset.provider;
      setDirty(true);
      refresh(card, { switch_provider: "1", model_choice: "", model_other: "" });
    }
  });

  list.addEventListener("change", function (event) {
    const el = event.target;
    const card = el.closest(".fb-card");
    if (!card) return;
    setDirty(true);
    if (el.name === "model_choice") {
      const other = card.querySelector("input[name=model_other]");
      other.hidden = el.value !== "__other__";
      if (!other.hidden) {
        other.focus();
      } else {
        // The reference-image hint and the breaker line belong to the model: show the chosen one's
        // (the select keeps focus across the swap: same id).
        refresh(card);
      }
    } else if (el.name === "env_key") {
      refresh(card);  // the Ready / Skipped badge depends on which key is named
    }
  });

  list.addEventListener("input", function (event) {
    setDirty(true);
    if (event.target.name === "label") renumber();
  });

  document.getElementById("fb-add").addEventListener("click", function () {
    htmx.ajax("GET", cardUrl, { target: list, swap: "beforeend" }).then(function () {
      const all = cards();
      const card = all[all.length - 1];
      setDirty(true);
      if (card) card.querySelector("input[name=label]").focus();
      announce("New candidate added at position " + all.length + ".");
    });
  });

  function noteEditsInFlight(target) {
    if (!target || !target.classList || !target.classList.contains("fb-card")) return;
    const uid = target.dataset.uid;
    const before = sent[uid];
    delete sent[uid];
    if (!before) return;
    const now = cardValues(target);
    const edits = {};
    CARRIED.forEach(function (name) {
      if (name in now && now[name] !== before[name]) edits[name] = now[name];
    });
    if (Object.keys(edits).length) carried[uid] = edits;
  }

  function applyEditsInFlight() {
    Object.keys(carried).forEach(function (uid) {
      const card = document.getElementById("card-" + uid);
      if (!card) return;  // not swapped in yet
      const edits = carried[uid];
      delete carried[uid];
      Object.keys(edits).forEach(function (name) {
        const field = card.querySelector("[name=" + name + "]");
        if (field) field.value = edits[name];
      });
      if ("model_choice" in edits) {
        card.querySelector("input[name=model_other]").hidden = edits.model_choice !== "__other__";
      }
      // The badge, hint and breaker line depend on these: render the card again for them.
      if ("env_key" in edits || "model_choice" in edits) refresh(card);
    });
  }

  document.body.addEventListener("htmx:afterSwap", applyEditsInFlight);
  // After any swap (a re-rendered card or a new one), fix the numbers and arrows.
  document.body.addEventListener("htmx:afterSettle", function () {
    applyEditsInFlight();
    renumber();
  });

  // A card partial that is not a card (the session expired and admin answered with its login
  // page, or the server failed) must never be swapped into the list: say so instead.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.classList.contains("fb-probe-result")) return;  // "Test candidate" result
    const xhr = event.detail.xhr;
    const isCard = xhr.status === 200 && /^\s*<li class="fb-card/.test(xhr.responseText);
    if (isCard) {
      noteEditsInFlight(event.detail.target);
    } else {
      event.detail.shouldSwap = false;
      announce("Could not update the card: reload the page (your session may have expired).");
      window.alert("Could not update the card. Reload the page; your session may have expired. Unsaved edits on this tab would be lost.");
    }
  });

  form.addEventListener("submit", function () { leaving = true; });
  document.querySelector("#fb-reset form").addEventListener("submit", function () { leaving = true; });

  window.addEventListener("beforeunload", function (event) {
    if (dirty && !leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  renumber();
})();
