/* Live updates, for when /api/v1/streaming serves server-sent events (not yet: see issue 10).
 *
 * StarlingLive.subscribe("/api/v1/streaming/user", {update(status) {...}, notification(n) {...}})
 * opens an EventSource on the URL (same origin: the session cookie authenticates it) and calls
 * the handler named by each event's type with its parsed payload, as Mastodon's streaming API
 * sends them ("update", "notification", "delete", "status.update"). It answers a function that
 * closes the stream. EventSource reconnects by itself after a network error.
 */
(function () {
  "use strict";

  function subscribe(url, handlers) {
    if (!("EventSource" in window)) return function () {};
    var source = new EventSource(url, { withCredentials: true });
    Object.keys(handlers).forEach(function (type) {
      source.addEventListener(type, function (event) {
        var payload;
        try { payload = JSON.parse(event.data); } catch (e) { payload = event.data; }
        handlers[type](payload);
      });
    });
    return function close() { source.close(); };
  }

  window.StarlingLive = { subscribe: subscribe };
})();
