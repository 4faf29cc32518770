// The only script besides htmx: text size (A+/A-), copy link, and error lines for htmx.
(function () {
  "use strict";
  var SIZE_KEY = "portal.textSize";
  var MIN = 1, MAX = 6, DEFAULT = 2;

  // What this script says comes from the page (data-* attributes), which the server converts for
  // 简体 readers; a string written here only would stay Traditional. The fallback is for a page without it.
  function wording(element, attribute, fallback) {
    return (element && element.getAttribute(attribute)) || fallback;
  }

  function readSize() {
    var stored = parseInt(window.localStorage.getItem(SIZE_KEY), 10);
    return stored >= MIN && stored <= MAX ? stored : DEFAULT;
  }

  function applySize(text, size) {
    for (var n = MIN; n <= MAX; n++) text.classList.remove("text-size-" + n);
    text.classList.add("text-size-" + size);
    text.setAttribute("data-text-size", String(size));
    document.querySelectorAll("[data-text-size=up]").forEach(function (b) { b.disabled = size >= MAX; });
    document.querySelectorAll("[data-text-size=down]").forEach(function (b) { b.disabled = size <= MIN; });
  }

  function setUpTextSize() {
    var text = document.getElementById("article-text");
    if (!text) return;
    applySize(text, readSize());
    document.querySelectorAll("button[data-text-size]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var step = button.getAttribute("data-text-size") === "up" ? 1 : -1;
        var size = Math.min(MAX, Math.max(MIN, readSize() + step));
        try { window.localStorage.setItem(SIZE_KEY, String(size)); } catch (e) { /* private mode */ }
        applySize(text, size);
      });
    });
  }

  function setUpCopyLink() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var field = document.querySelector(button.getAttribute("data-copy"));
        var status = button.parentNode.querySelector(".copy-status");
        navigator.clipboard.writeText(field.value).then(
          function () { if (status) status.textContent = wording(status, "data-copied", "已複製"); },
          function () {
            field.select();
            if (status) status.textContent = wording(status, "data-copy-failed", "請長按或按 Ctrl+C 複製");
          }
        );
      });
    });
  }

  // An htmx answer's message lands in #messages, at the top of the page: a reader scrolled down to
  // the comments would see nothing happen. While it holds such a message it floats in view.
  function float(box) {
    box.classList.add("floating");
  }

  function say(message) {
    var box = document.getElementById("messages");
    if (!box) return;
    var line = document.createElement("p");
    line.className = "message message-error";
    line.setAttribute("role", "alert");
    line.textContent = message;
    box.replaceChildren(line);
    float(box);
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "messages") float(event.detail.target);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = document.getElementById("messages");
    // A reader's next action clears it; a background poll (the queue's counts) does not.
    if (!event.detail.elt || !event.detail.elt.closest("form, a, button")) return;
    if (box && box.classList.contains("floating")) {
      box.classList.remove("floating");
      box.replaceChildren();  // the next answer brings its own message, if any
    }
  });
  document.addEventListener("click", function (event) {
    var box = document.getElementById("messages");
    if (box && box.classList.contains("floating") && box.contains(event.target)) {
      box.classList.remove("floating");
      box.replaceChildren();
    }
  });

  // Keyboard and screen-reader users go on where the swap put new content: the first comment that
  // 載入更多 or 展開更多回覆 brought, and the textarea of the form 回覆 opened. A 最新/熱門 tab
  // replaces the whole thread, itself included: the keyboard stays on the tab chosen, which the new
  // thread marks aria-current.
  var before = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    before = target && target.matches(".comments-more, .replies-more")
      ? { previous: target.previousElementSibling, list: target.parentNode }
      : null;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (before) {
      var first = before.previous ? before.previous.nextElementSibling : before.list.firstElementChild;
      before = null;
      if (first && first.matches("li.comment")) {
        first.setAttribute("tabindex", "-1");
        first.focus();
      }
    } else if (trigger && trigger.classList.contains("reply-link")) {
      var body = document.getElementById("body");
      if (body) body.focus();
    } else if (trigger && trigger.hasAttribute("data-reply-cancel")) {
      // 取消回覆 went with the form it was in: back to the 回覆 of the comment it answered, else
      // to the new comment's field.
      var comment = document.getElementById("comment-" + trigger.getAttribute("data-reply-cancel"));
      var again = comment && comment.querySelector(":scope > .comment-actions .reply-link");
      var spot = again || document.getElementById("body");
      if (spot) spot.focus();
    } else if (trigger && trigger.classList.contains("report-link")) {
      // 舉報 opened the form below the comment: the keyboard goes on to its first field.
      var slot = document.getElementById(trigger.id.replace("report-link-", "report-slot-"));
      var field = slot && slot.querySelector("select, textarea, input:not([type=hidden])");
      if (field) field.focus();
    } else if (trigger && trigger.matches(".comment-tabs a[data-order]")) {
      var tab = document.querySelector("#comment-thread .comment-tabs a[aria-current]");
      if (tab) tab.focus();
    }
  });

  // A swap that replaces the control holding the keyboard focus (發表評論, 點贊, 提交舉報) drops the
  // focus to the page: a keyboard or screen-reader user would start again from the top. It goes
  // back into the new content: to the field to fix, else the same control, else the message. The
  // place is taken when the request starts: hx-disabled-elt blurs the button while it runs.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    if (event.detail.xhr && target && target.id && active && active.matches("button, input, select, textarea") &&
        target.contains(active)) {
      event.detail.xhr.portalFocus = {
        id: target.id, tag: active.tagName.toLowerCase(), name: active.getAttribute("name"),
        value: active.tagName === "BUTTON" ? active.getAttribute("value") : null
      };
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var was = event.detail.xhr && event.detail.xhr.portalFocus;
    if (!was) return;
    event.detail.xhr.portalFocus = null;  // settled once, for every element the answer swapped
    if (document.activeElement && document.activeElement !== document.body) return;
    var root = document.getElementById(was.id);
    if (!root) return;
    var same = was.tag + (was.name ? "[name=\"" + CSS.escape(was.name) + "\"]" : "");
    // A button of several with one name (批量通過, 批量不通過): the one pressed.
    var pressed = was.value !== null && was.value !== undefined ? same + "[value=\"" + CSS.escape(was.value) + "\"]" : null;
    var spot = root.querySelector("[aria-invalid=true]") || (pressed && root.querySelector(pressed)) ||
      root.querySelector(same) || root.querySelector("[role=status], [role=alert]");
    if (!spot) return;
    if (!spot.matches("button, input, select, textarea, a[href]")) spot.setAttribute("tabindex", "-1");
    spot.focus();
  });

  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr && event.detail.xhr.status >= 500) say(wording(document.getElementById("messages"), "data-server-error", "服務器暫時出現問題，您輸入的內容仍在，請稍後再試。"));
  });
  document.addEventListener("htmx:sendError", function () {
    say(wording(document.getElementById("messages"), "data-network-error", "網絡連接失敗，您輸入的內容仍在，請檢查網絡後再試。"));
  });

  // 取消 on a report form opened in place closes it, and the keyboard goes back to 舉報. Without
  // JavaScript (or on the report's own page) the link goes back to the comment.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("a[data-report-cancel]");
    if (!cancel) return;
    var id = cancel.getAttribute("data-report-cancel");
    var slot = document.getElementById("report-slot-" + id);
    var link = document.getElementById("report-link-" + id);
    if (!slot || !link) return;
    event.preventDefault();
    var empty = document.createElement("div");
    empty.id = slot.id;
    slot.replaceWith(empty);
    link.focus();
  });

  // A destructive form asks first (data-confirm), and says it was asked (confirmed=1); without
  // JavaScript the server asks instead, on a page of its own, before anything is done.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (!question) return;
    if (!window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    if (!form.querySelector("input[name=confirmed]")) {
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "1";
      form.appendChild(confirmed);
    }
  }, true);

  // A file over the server's limit (data-max-bytes) is said beside its field and not sent: the
  // server would refuse it only once the whole file had gone up, on a page without the form.
  var MB = 1024 * 1024;
  function fileSizeOk(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    var note = document.getElementById(input.id + "-size-error");
    var over = max > 0 && file && file.size > max;
    if (note) {
      note.textContent = over
        ? wording(note, "data-message", "文件過大：媒體文件不能超過 {max} MB，所選文件為 {size} MB。")
          .replace("{max}", String(Math.floor(max / MB))).replace("{size}", (file.size / MB).toFixed(1))
        : "";
      note.hidden = !over;
    }
    if (over) {
      input.setAttribute("aria-invalid", "true");
      if (note) input.setAttribute("aria-describedby", note.id);
    } else if (note && input.getAttribute("aria-describedby") === note.id) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    return !over;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) fileSizeOk(event.target);
  });
  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll ? event.target.querySelectorAll("input[type=file][data-max-bytes]") : [];
    for (var i = 0; i < inputs.length; i++) {
      if (!fileSizeOk(inputs[i])) {
        event.preventDefault();
        inputs[i].focus();
        return;
      }
    }
  });

  // The file field in the page's language (see the field macro): the chosen file's name, or 未選擇文件.
  function setUpFilePickers() {
    document.querySelectorAll(".file-picker").forEach(function (picker) {
      picker.classList.add("enhanced");
      picker.querySelectorAll("[hidden]").forEach(function (part) { part.hidden = false; });
    });
  }
  document.addEventListener("change", function (event) {
    var picker = event.target.closest && event.target.closest(".file-picker");
    var chosen = picker && picker.querySelector(".file-chosen");
    if (!chosen) return;
    var names = Array.prototype.map.call(event.target.files || [], function (file) { return file.name; });
    chosen.textContent = names.length ? names.join("、") : chosen.getAttribute("data-none");
  });

  // A comment being typed is kept in this tab until it is posted: a reload, a slip of the back
  // button or a session that ended (the post then goes by the login page and back) loses nothing.
  // sessionStorage dies with the tab, and signing out here drops what was kept.
  var DRAFT = "portal-comment-draft:";
  function draftField(node) {
    return node && node.matches && node.matches("form.comment-form textarea[name=body]") ? node : null;
  }
  function draftKey(field) {
    return DRAFT + field.form.getAttribute("action").split("#")[0];
  }
  function keep(action) {
    try { action(window.sessionStorage); } catch (error) { /* storage off or full: nothing kept */ }
  }
  document.addEventListener("input", function (event) {
    var field = draftField(event.target);
    if (!field) return;
    keep(function (store) {
      if (field.value.trim()) store.setItem(draftKey(field), field.value);
      else store.removeItem(draftKey(field));
    });
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    var field = form && form.querySelector && draftField(form.querySelector("textarea[name=body]"));
    if (field && event.detail.xhr.status === 201) keep(function (store) { store.removeItem(draftKey(field)); });
  });
  document.addEventListener("submit", function (event) {
    var action = event.target.getAttribute && event.target.getAttribute("action") || "";
    if (!/\/accounts\/logout/.test(action)) return;
    keep(function (store) {
      Object.keys(store).forEach(function (key) { if (key.indexOf(DRAFT) === 0) store.removeItem(key); });
    });
  });
  function restoreDraft() {
    var field = draftField(document.querySelector("form.comment-form textarea[name=body]"));
    if (!field || field.value.trim()) return;
    keep(function (store) {
      var draft = store.getItem(draftKey(field));
      if (draft) field.value = draft;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpTextSize();
    setUpCopyLink();
    restoreDraft();
    setUpFilePickers();
  });
})();
