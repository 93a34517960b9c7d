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

/* Drag and drop: a booked block dropped on a free time of its kind opens the same move
   confirmation as "Déplacer" then a click (the server checks everything on confirm). */
(function () {
  "use strict";
  var dragged = null;
  function freeCell(target) {
    var cell = target && target.closest ? target.closest(".free[data-start]") : null;
    return cell && dragged && cell.getAttribute("data-kind") === dragged.getAttribute("data-kind")
      ? cell : null;
  }
  document.querySelectorAll(".appt[draggable=true]").forEach(function (block) {
    block.addEventListener("dragstart", function (e) {
      dragged = block;
      block.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", block.id);
    });
    block.addEventListener("dragend", function () {
      block.classList.remove("dragging");
      dragged = null;
    });
  });
  document.addEventListener("dragover", function (e) {
    if (freeCell(e.target)) { e.preventDefault(); e.dataTransfer.dropEffect = "move"; }
  });
  document.addEventListener("drop", function (e) {
    var cell = freeCell(e.target);
    if (!cell) return;
    e.preventDefault();
    var q = function (name) { return encodeURIComponent(cell.getAttribute("data-" + name)); };
    window.location.href = dragged.getAttribute("data-move") + "&gp=" + q("gp") + "&type=" + q("kind") +
      "&debut=" + q("start") + "&fin=" + q("end") + "#confirmer";
  });
})();
