// Keyboard for the moderation queue: j/k move, a approves, r picks a reason to reject, x ticks.
// The page works fully without it: every action is a plain form.
(function () {
  "use strict";
  var current = -1;

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue > .queue-row:not(.decided)")); }

  function focusRow(index) {
    var list = rows();
    if (!list.length) return;
    current = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) { row.classList.remove("is-current"); });
    list[current].classList.add("is-current");
    list[current].focus();
    list[current].scrollIntoView({ block: "nearest" });
  }

  function currentRow() {
    var list = rows();
    return list[current] || null;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var row = currentRow();
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "a":
        if (row) { var approve = row.querySelector("button[data-key=approve]"); if (approve) approve.click(); }
        break;
      case "r":
        if (row) { var reason = row.querySelector(".reason-select"); if (reason) reason.focus(); }
        break;
      case "x":
        if (row) { var tick = row.querySelector(".row-tick"); if (tick) tick.checked = !tick.checked; }
        break;
      default: return;
    }
    event.preventDefault();
  });

  // After a decision the row is replaced by its decided line, and the focus it held is gone: go on
  // to the next undecided row (or the one before, at the end). Not on htmx:afterSwap: until the
  // swap settles, the new row still wears the old row's classes, `decided` not among them.
  document.addEventListener("htmx:afterSettle", function (event) {
    var done = event.target;
    if (!done || !done.matches || !done.matches("#queue > .queue-row.decided")) return;
    var active = document.activeElement;
    if (active && active !== document.body && !done.contains(active)) return;  // busy elsewhere
    var next = done.nextElementSibling;
    while (next && !next.matches(".queue-row:not(.decided)")) next = next.nextElementSibling;
    var list = rows();
    focusRow(next ? list.indexOf(next) : list.length - 1);
  });

  // In the reason list, Enter rejects with the chosen reason.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target && target.classList && target.classList.contains("reason-select")) {
      var reject = target.closest(".queue-row").querySelector("button[data-key=reject]");
      if (reject && target.value) { event.preventDefault(); reject.click(); }
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.hasAttribute("data-tick-all")) {
      var on = event.target.checked;
      document.querySelectorAll(".row-tick").forEach(function (box) { box.checked = on; });
    }
  });
})();
