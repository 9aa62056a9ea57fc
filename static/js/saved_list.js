// The saved list, kept on this device (providers/saved_lists.py explains the whole design).
// Without JavaScript, "Save" is a link to /list/ with the provider added to the list carried in the
// address. Here it becomes a toggle that keeps the provider's slug in localStorage: no account, no
// cookie, nothing sent anywhere. The server sees the list only when the person opens it as
// /list/?p=...&p=... Quick exit (quick_exit.js) forgets it, under the same key.
(function () {
  "use strict";
  var KEY = "savedProviders";

  // null where the browser keeps nothing (storage turned off): the links then keep working as without JavaScript.
  function read() {
    try {
      var list = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(list) ? list.filter(function (slug) { return typeof slug === "string" && slug; }) : [];
    } catch (error) {
      return null;
    }
  }

  function write(list) {
    try {
      if (list.length) {
        window.localStorage.setItem(KEY, JSON.stringify(list));
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (error) {
      // Full or refused: the page still shows the state it was asked for.
    }
  }

  function listAddress(base, list) {
    return list.length ? base + "?" + list.map(function (slug) { return "p=" + encodeURIComponent(slug); }).join("&") : base;
  }

  if (read() === null) {
    return;
  }

  var page = document.querySelector("[data-saved-list-page]");
  var shown = page && page.getAttribute("data-requested") ? page.getAttribute("data-requested").split(" ") : [];
  if (page && !shown.length && !window.location.search && read().length) {
    // /list/ alone: open this device's list, replacing this page in the history.
    window.location.replace(listAddress(page.getAttribute("data-list-url"), read()));
    return;
  }

  function showState() {
    var list = read() || [];
    document.querySelectorAll("button[data-save]").forEach(function (button) {
      var saved = list.indexOf(button.getAttribute("data-save")) !== -1;
      button.setAttribute("aria-pressed", saved ? "true" : "false");
      button.querySelector("[data-save-label]").textContent = button.getAttribute(saved ? "data-label-saved" : "data-label-save");
    });
    document.querySelectorAll("[data-saved-list]").forEach(function (link) {
      link.href = listAddress(link.getAttribute("data-list-url"), list);
      link.querySelector("[data-saved-count]").textContent = String(list.length);
    });
  }

  function toggle(event) {
    var slug = event.currentTarget.getAttribute("data-save");
    var list = read() || [];
    var index = list.indexOf(slug);
    if (index === -1) {
      list.push(slug);
    } else {
      list.splice(index, 1);
    }
    write(list);
    showState();
  }

  // The device's own list is the one shown: "Remove" takes the provider off the device too.
  var mine = page && shown.length && shown.length === read().length && shown.every(function (slug) { return read().indexOf(slug) !== -1; });

  document.querySelectorAll("[data-save]").forEach(function (control) {
    var button = control;
    if (control.tagName === "A") {
      button = document.createElement("button");
      Array.prototype.forEach.call(control.attributes, function (attribute) {
        if (attribute.name !== "href") {
          button.setAttribute(attribute.name, attribute.value);
        }
      });
      button.type = "button";
      while (control.firstChild) {
        button.appendChild(control.firstChild);
      }
      control.replaceWith(button);
    } else if (!mine) {
      button.hidden = false;
    }
    button.addEventListener("click", toggle);
  });

  if (mine) {
    document.querySelectorAll("[data-remove]").forEach(function (link) {
      link.addEventListener("click", function () {
        write((read() || []).filter(function (slug) { return slug !== link.getAttribute("data-remove"); }));
      });
    });
  }

  var copy = document.querySelector("[data-copy-link]");
  if (copy) {
    var field = document.querySelector(copy.getAttribute("data-copy-link"));
    var status = document.querySelector("[data-copy-status]");
    copy.hidden = false;
    copy.addEventListener("click", function () {
      function done(copied) {
        status.textContent = copy.getAttribute(copied ? "data-copied" : "data-copy-failed");
        if (!copied) {
          field.select();
        }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { done(false); });
      } else {
        field.select();
        var copied = false;
        try {
          copied = document.execCommand("copy");
        } catch (error) {
          copied = false;
        }
        done(copied);
      }
    });
  }

  var print = document.querySelector("[data-print]");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }

  showState();
})();
