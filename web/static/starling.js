/* Starling's web UI, enhanced: everything works without this file (plain forms and links);
 * with it, actions happen without a reload, the compose box counts characters, times tick
 * and "Load more" loads by itself. No framework, no build step. */
(function () {
  "use strict";

  var LIMIT_DEFAULT = 280;

  function say(message, kind) {
    var box = document.getElementById("messages");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash" + (kind === "error" ? " error" : "");
    p.setAttribute("role", kind === "error" ? "alert" : "status");
    p.textContent = message;
    box.replaceChildren(p);
  }

  /* Characters as the server counts them: code points after NFC, trimmed. */
  function length(text) {
    return Array.from(text.normalize("NFC").trim()).length;
  }

  function setUpCounter(textarea) {
    var form = textarea.form;
    var counter = document.getElementById(textarea.getAttribute("aria-describedby"));
    var limit = parseInt(textarea.dataset.limit, 10) || LIMIT_DEFAULT;
    var warning = form.querySelector("input[name=spoiler_text]");
    function used() { return length(textarea.value) + (warning ? length(warning.value) : 0); }
    function update() {
      var left = limit - used();
      counter.textContent = left >= 0 ? left + " characters left" : -left + " over the limit";
      counter.classList.toggle("over", left < 0);
    }
    textarea.addEventListener("input", update);
    if (warning) warning.addEventListener("input", update);
    form.addEventListener("submit", function (event) {
      var over = used() - limit;
      if (over > 0) {
        event.preventDefault();
        say("Your post is " + over + " character" + (over === 1 ? "" : "s") +
            " over the limit of " + limit + ". Shorten it to post.", "error");
        textarea.focus();
      }
    });
    update();
  }

  /* The same rules as web/ui/timefmt.py */
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function ago(when, now) {
    var seconds = Math.floor((now - when) / 1000);
    if (seconds < 60) return "now";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h";
    if (seconds < 7 * 86400) return Math.floor(seconds / 86400) + " d";
    var text = MONTHS[when.getUTCMonth()] + " " + when.getUTCDate();
    return when.getUTCFullYear() === now.getUTCFullYear() ? text : text + ", " + when.getUTCFullYear();
  }
  function tick() {
    var now = new Date();
    document.querySelectorAll("time[datetime]").forEach(function (node) {
      var when = new Date(node.getAttribute("datetime"));
      if (!isNaN(when)) node.textContent = ago(when, now);
    });
  }

  /* A page fetched for its items only: the server leaves any pending message for the next page
   * the person opens (web/ui/render.py BACKGROUND_HEADER). */
  var BACKGROUND = { headers: { "X-Starling-Background": "1" } };

  async function fetchPage(url, options) {
    var response = await fetch(url, Object.assign({ credentials: "same-origin" }, options || {}));
    var html = await response.text();
    return { response: response, doc: new DOMParser().parseFromString(html, "text/html") };
  }

  function messageIn(doc) {
    var node = doc.querySelector("#messages .flash, main [role=alert]");
    return node ? { text: node.textContent.trim(), error: node.classList.contains("error") || node.getAttribute("role") === "alert" } : null;
  }

  /* A form action by fetch: post the form as it is, with "next" set to a page that shows the
   * new state (data-refresh), then swap the parts named by data-replace from that page. */
  async function submitEnhanced(form, event) {
    event.preventDefault();
    var body = new FormData(form);
    if (form.dataset.refresh) body.set("next", form.dataset.refresh);
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      var result = await fetchPage(form.action, { method: "POST", body: body });
      var message = messageIn(result.doc);
      if (!result.response.ok) {
        say(message ? message.text : "That did not work. Reload the page and try again.", "error");
        return;
      }
      var selector = form.dataset.replace;
      var fresh = selector && result.doc.querySelector(selector);
      if (fresh) {
        document.querySelectorAll(selector).forEach(function (old) {
          var copy = document.importNode(fresh, true);
          old.replaceWith(copy);
          enhance(copy);
        });
      }
      if (message) say(message.text, message.error ? "error" : "info");
    } catch (e) {
      say("The server could not be reached. Try again.", "error");
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  }

  /* Infinite scroll: when "Load more" comes into view, fetch the next page and append it. */
  function setUpMore(link) {
    if (!("IntersectionObserver" in window)) return;
    var loading = false;
    var observer = new IntersectionObserver(async function (entries) {
      if (!entries.some(function (e) { return e.isIntersecting; }) || loading) return;
      loading = true;
      try {
        var result = await fetchPage(link.href, BACKGROUND);
        var feed = document.querySelector("[data-feed]");
        var next = result.doc.querySelector("[data-feed]");
        if (feed && next) {
          Array.from(next.children).forEach(function (item) {
            if (!item.id || !document.getElementById(item.id)) {
              var copy = document.importNode(item, true);
              feed.appendChild(copy);
              enhance(copy);
            }
          });
        }
        var more = result.doc.querySelector("[data-more]");
        if (more) { link.href = more.getAttribute("href"); } else { observer.disconnect(); link.parentNode.remove(); }
        tick();
      } finally {
        loading = false;
      }
    }, { rootMargin: "400px" });
    observer.observe(link);
  }

  /* Live updates (web/static/live.js, over the streaming API's server-sent events): a feed
   * with data-live takes new items from a fresh copy of its first page, rendered by the
   * server like the rest, and drops deleted posts; a notification bumps the nav's badge. */
  function setUpLive(feed) {
    var pending = null;
    /* Deleted while a refresh was in flight: its page, rendered before, must not bring them back. */
    var deleted = new Set();
    function refresh() {
      if (pending) return;
      pending = setTimeout(async function () {
        pending = null;
        try {
          var result = await fetchPage(location.pathname + (feed.dataset.query || ""), BACKGROUND);
          var fresh = result.doc.querySelector("[data-feed]");
          if (!fresh) return;
          var anchor = feed.firstElementChild;
          Array.from(fresh.children).forEach(function (item) {
            if (item.id && !document.getElementById(item.id) && !deleted.has(item.id)) {
              var copy = document.importNode(item, true);
              copy.classList.add("arrived");
              feed.insertBefore(copy, anchor);
              enhance(copy);
            }
          });
          var empty = document.querySelector("main .empty");
          if (empty && feed.children.length) empty.remove();
          tick();
        } catch (e) { /* the next event, or a reload, catches up */ }
      }, 250);
    }
    var handlers = {
      update: refresh,
      "status.update": function (status) {
        if (status && document.getElementById("post-" + status.id)) refresh();
      },
      delete: function (id) {
        deleted.add("post-" + id);
        var gone = document.getElementById("post-" + id);
        if (gone) gone.remove();
      },
      notification: feed.dataset.live.indexOf("notification") >= 0 ? refresh : bump
    };
    return window.StarlingLive.subscribe(feed.dataset.live, handlers);
  }

  function bump() {
    var badge = document.querySelector("[data-unread]");
    if (!badge) return;
    var count = (parseInt(badge.textContent, 10) || 0) + 1;
    badge.textContent = String(count);
    badge.setAttribute("aria-label", count + " new");
    badge.hidden = false;
  }

  function setUpLiveUpdates() {
    if (!window.StarlingLive) return;
    var feed = document.querySelector("[data-feed][data-live]");
    var live = feed ? feed.dataset.live : "";
    if (feed) setUpLive(feed);
    /* The user stream carries notifications already; elsewhere, a stream of them alone. */
    var carries = live.indexOf("/streaming/user") >= 0;
    if (document.body.hasAttribute("data-signed-in") && !carries) {
      window.StarlingLive.subscribe("/api/v1/streaming/user/notification", { notification: bump });
    }
  }

  function enhance(root) {
    root.querySelectorAll("form[data-enhance]").forEach(function (form) {
      form.addEventListener("submit", function (event) { submitEnhanced(form, event); });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-limit]").forEach(setUpCounter);
    document.querySelectorAll("[data-more]").forEach(setUpMore);
    enhance(document);
    tick();
    setInterval(tick, 30000);
    setUpLiveUpdates();
  });
})();
