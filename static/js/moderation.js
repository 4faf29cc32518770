// Keyboard for the moderation queue: j/k move, a approves, r picks a reason to reject, x ticks.
// The page works fully without it: every action is a plain form, reached with Tab.
//
// Single-key shortcuts (WCAG 2.1.4) can be turned off with the 單鍵快捷鍵 switch, which this
// browser remembers for the moderator, and act only while the focus is in the list (#queue), never
// in a field typed into and never with Ctrl, Alt, Shift or Meta: a speech-input user's words or a
// key typed in the wrong place approve nothing.
(function () {
  "use strict";
  var STORE = "portal.moderation.shortcuts.";  // + the moderator's id: "on" or "off"
  var panel = document.getElementById("shortcut-panel");
  var toggle = document.getElementById("shortcut-switch");
  var help = document.getElementById("shortcut-help");

  function storeKey() { return STORE + (panel ? panel.getAttribute("data-moderator") : ""); }

  function enabled() {
    if (!toggle) return false;
    return toggle.checked;
  }

  function readSetting() {
    try { return window.localStorage.getItem(storeKey()) !== "off"; } catch (e) { return true; }
  }

  function showState() {
    var on = enabled();
    help.textContent = help.getAttribute(on ? "data-on" : "data-off");
    panel.classList.toggle("is-off", !on);
  }

  function setUpSwitch() {
    if (!panel || !toggle || !help) return;
    toggle.checked = readSetting();
    showState();
    panel.hidden = false;
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem(storeKey(), toggle.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      showState();
    });
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue > .queue-row:not(.decided)")); }

  function focusRow(row) {
    if (!row) return;
    rows().forEach(function (other) { other.classList.remove("is-current"); });
    row.classList.add("is-current");
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  // The row holding the focus, and the one j or k goes to from it; from the list itself (跳到評論列表),
  // j goes to the first row and k to the last.
  function rowOf(element) {
    var row = element.closest("#queue > .queue-row");
    return row && !row.classList.contains("decided") ? row : null;
  }

  function step(from, by) {
    var list = rows();
    if (!list.length) return null;
    var at = from ? list.indexOf(from) : -1;
    if (at < 0) return by > 0 ? list[0] : list[list.length - 1];
    return list[Math.max(0, Math.min(list.length - 1, at + by))];
  }

  // Typed into: keys there are text. A checkbox or a button is not typed into: x on the row's own
  // box ticks it, as anywhere else in the row.
  function typedInto(element) {
    if (element.isContentEditable) return true;
    if (/^(TEXTAREA|SELECT)$/.test(element.tagName)) return true;
    return element.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(element.type);
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var queue = document.getElementById("queue");
    if (!enabled() || !queue || !target || !target.closest || !queue.contains(target)) return;
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    if (typedInto(target)) {
      // Out of a row's field, back to its row, where the keys work again.
      if (event.key === "Escape" && rowOf(target)) { event.preventDefault(); focusRow(rowOf(target)); }
      return;
    }
    var row = rowOf(target);
    switch (event.key) {
      case "j": focusRow(step(row, 1)); break;
      case "k": focusRow(step(row, -1)); break;
      case "a":
        if (event.repeat) break;  // a key held down decides one row, not every row it reaches
        if (row) { var approve = row.querySelector("button[data-key=approve]"); if (approve) approve.click(); }
        break;
      case "r":
        if (row) { var reason = row.querySelector(".reason-select"); if (reason) reason.focus(); }
        break;
      case "x":
        if (event.repeat) break;
        if (row) { var tick = row.querySelector(".row-tick"); if (tick) tick.checked = !tick.checked; }
        break;
      default: return;
    }
    event.preventDefault();
  });

  // After a decision the row is replaced by its decided line, and the focus it held is gone: go on
  // to the next undecided row (or the one before, at the end). Not on htmx:afterSwap: until the
  // swap settles, the new row still wears the old row's classes, `decided` not among them. This is
  // not a shortcut: the same happens after a click on 通過.
  document.addEventListener("htmx:afterSettle", function (event) {
    var done = event.target;
    if (!done || !done.matches || !done.matches("#queue > .queue-row.decided")) return;
    if (fromBulk(event)) return;  // one of many rows a bulk decided: below, once for them all
    var active = document.activeElement;
    if (active && active !== document.body && !done.contains(active)) return;  // busy elsewhere
    var next = done.nextElementSibling;
    while (next && !next.matches(".queue-row:not(.decided)")) next = next.nextElementSibling;
    var list = rows();
    var row = next || list[list.length - 1];
    if (row) {
      focusRow(row);
    } else {  // the last row decided: the keyboard stays on its decided line
      var line = done.querySelector(".decided-line");
      if (line) { line.setAttribute("tabindex", "-1"); line.focus(); }
    }
  });

  function fromBulk(event) {
    var elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    return !!elt && elt.id === "bulk-form";
  }

  // A bulk decision answers in place: the form again, blank (its ticks gone with the rows it
  // decided), and each ticked row decided out of band. The keyboard goes on to the first row still
  // to decide, where j/k/a work, or, none left or none decided (taken meanwhile, not in this desk's
  // sections), to the line saying what the bulk did. A refused bulk (nothing ticked, no reason) is
  // the form again with its message: portal.js puts the keyboard on the field to fix, or back on
  // the button pressed.
  document.addEventListener("htmx:afterSettle", function (event) {
    var form = event.target;
    if (!form || form.id !== "bulk-form" || !fromBulk(event)) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 422) return;
    var row = status < 400 ? rows()[0] : null;
    if (row) {
      focusRow(row);
    } else {
      var line = document.getElementById("bulk-outcome");
      if (line) { line.setAttribute("tabindex", "-1"); line.focus(); }
    }
  });

  // An appeal ruled in place (the 申訴 tab): its decided line replaces it, and the keyboard goes on
  // to the next appeal still open (or the one before), else stays on the decided line.
  document.addEventListener("htmx:afterSettle", function (event) {
    var done = event.target;
    if (!done || !done.matches || !done.matches("#appeal-list > .queue-row.decided")) return;
    var active = document.activeElement;
    if (active && active !== document.body && !done.contains(active)) return;  // busy elsewhere
    var open = Array.prototype.slice.call(document.querySelectorAll("#appeal-list > .queue-row:not(.decided)"));
    var next = done.nextElementSibling;
    while (next && !next.matches(".queue-row:not(.decided)")) next = next.nextElementSibling;
    var spot = next || open[open.length - 1] || done.querySelector(".decided-line");
    if (!spot) return;
    if (!spot.hasAttribute("tabindex")) spot.setAttribute("tabindex", "-1");
    spot.focus();
    if (spot.scrollIntoView) spot.scrollIntoView({ block: "nearest" });
  });

  // In the reason list (reached with r), Enter rejects with the chosen reason: part of the
  // shortcuts, off with them. Without them: pick the reason, Tab to 不通過.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!enabled() || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
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

  setUpSwitch();
})();
