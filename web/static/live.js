/* Live updates over the streaming API's server-sent events (web/streaming).
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
        /* A delete's payload is a bare id: parsed as a number it would lose digits. */
        var payload = event.data;
        if (/^[\[{"]/.test(payload)) {
          try { payload = JSON.parse(payload); } catch (e) { /* left as text */ }
        }
        handlers[type](payload);
      });
    });
    return function close() { source.close(); };
  }

  window.StarlingLive = { subscribe: subscribe };
})();
