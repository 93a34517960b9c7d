/* Premier Recours — agenda grid helpers; the grid works without them (links and forms). */
(function () {
  "use strict";

  // The confirmation panel (book, move, cancel) takes the focus when the page opens on it.
  var confirm = document.getElementById("confirmer");
  if (confirm) {
    var field = confirm.querySelector("input:not([type=hidden])");
    confirm.scrollIntoView({ block: "start" });
    (field || confirm).focus({ preventScroll: true });
  }

  // One appointment open at a time; Escape closes it.
  var blocks = Array.prototype.slice.call(document.querySelectorAll(".appt details"));
  blocks.forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open) return;
      blocks.forEach(function (other) { if (other !== d) other.open = false; });
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    blocks.forEach(function (d) {
      if (d.open) { d.open = false; d.querySelector("summary").focus(); }
    });
  });

  // The grid opens scrolled to the first session (or the moved/booked appointment).
  var grid = document.querySelector(".ag-scroll");
  var mark = document.querySelector(".appt.just, .appt.moving");
  if (grid && mark && !confirm) mark.scrollIntoView({ block: "center", inline: "center" });
})();
