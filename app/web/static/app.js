/* Premier Recours — the little JavaScript the pages need; everything works without it. */
(function () {
  "use strict";

  // Live fragments: <div data-poll="/url" data-interval="10000"> is refreshed in place.
  function poll(el) {
    var url = el.getAttribute("data-poll");
    var every = parseInt(el.getAttribute("data-interval") || "10000", 10);
    function refresh() {
      if (document.hidden || el.contains(document.activeElement)) return;
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
        .then(function (html) {
          if (html !== null) { el.innerHTML = html; el.setAttribute("data-refreshed", Date.now()); }
        })
        .catch(function () { /* offline for a moment: keep what is shown */ });
    }
    // data-poll-now: a fragment the page does not render itself is fetched at once.
    if (el.hasAttribute("data-poll-now")) refresh();
    window.setInterval(refresh, every);
  }

  // Deadline countdowns, ticking on the server's clock.
  function duration(ms) {
    var min = Math.round(Math.abs(ms) / 60000), h = Math.floor(min / 60), m = min % 60;
    if (h >= 24) return Math.floor(h / 24) + " j " + (h % 24) + " h";
    return (h ? h + " h " : "") + (h ? String(m).padStart(2, "0") : m) + " min";
  }
  function tick(els, offset) {
    els.forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-deadline")) - (Date.now() + offset);
      el.textContent = left >= 0 ? "reste " + duration(left) : "dépassée de " + duration(left);
      el.classList.toggle("late", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 2 * 3600 * 1000);
    });
  }
  function countdowns() {
    var els = Array.prototype.slice.call(document.querySelectorAll(".countdown[data-deadline]"));
    if (!els.length) return;
    var offset = Date.parse(els[0].getAttribute("data-now")) - Date.now();
    tick(els, offset);
    window.setInterval(function () { tick(els, offset); }, 30000);
  }

  // Red flags: any ticked → "Orienter vers le 15", booking disabled (the server enforces it too).
  function redFlags() {
    var box = document.getElementById("red-flags");
    if (!box) return;
    var alert15 = document.getElementById("alert-15");
    var propose = document.getElementById("btn-propose");
    var redirect = document.getElementById("btn-15");
    function update() {
      var any = box.querySelector("input[type=checkbox]:checked") !== null;
      alert15.hidden = !any;
      propose.disabled = any;
      redirect.hidden = !any;
    }
    box.addEventListener("change", update);
    update();
  }

  // Modality suggestion follows "cannot travel" and the patient's mobility.
  function modality() {
    var box = document.getElementById("cannot_travel");
    var hint = document.getElementById("modality-suggestion");
    if (!box || !hint) return;
    box.addEventListener("change", function () {
      var home = box.checked || box.getAttribute("data-mobility") === "1";
      hint.textContent = hint.getAttribute(home ? "data-home" : "data-tele");
    });
  }

  // A form submitted once: no double booking from a double click.
  function once() {
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (form.getAttribute("data-sent")) { ev.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      window.setTimeout(function () { form.removeAttribute("data-sent"); }, 5000);
    });
  }

  // After a refused form, the first field in error takes the focus (keyboard users land on it).
  function focusError() {
    var bad = document.querySelector("[aria-invalid=true]");
    if (bad) bad.focus();
  }

  // One call, one screen: after each step the focus lands on the panel that comes next
  // (the triage's first field has autofocus; the proposals or the confirmation take it here).
  function focusPanel() {
    if (document.querySelector("[aria-invalid=true]")) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    var panel = document.querySelector("[data-focus-panel]");
    if (panel) panel.focus();
  }

  function start() {
    focusError();
    focusPanel();
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
    countdowns();
    redFlags();
    modality();
    once();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
