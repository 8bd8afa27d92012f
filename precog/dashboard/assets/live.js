// The page's live updates: Server-Sent Events from /api/live put each snapshot of the live
// panels into the stores `live-daily-pnl` and `live-positions`, which the page's callbacks
// render (each sent only its own rows). While the stream is
// down (the browser reconnects by itself), the snapshot is polled every 5 s instead.
(function () {
    var POLL_MS = 5000;
    var poller = null;

    function deliver(snapshot) {
        if (window.dash_clientside && window.dash_clientside.set_props) {
            window.dash_clientside.set_props("live-daily-pnl", {data: snapshot.daily_pnl});
            window.dash_clientside.set_props("live-positions", {data: snapshot.current_positions});
        }
    }

    // The stream's state, on <html data-live> at once and on the header's badge once the page
    // has drawn it (the stream may open first).
    function status(text) {
        document.documentElement.dataset.live = text;
        showStatus();
    }

    function showStatus() {
        var element = document.getElementById("live-status");
        var text = document.documentElement.dataset.live || "connecting";
        if (element && element.dataset.state !== text) {
            element.textContent = text;
            element.dataset.state = text;
        }
    }
    setInterval(showStatus, 500);

    function poll() {
        fetch("/api/live/snapshot").then(function (r) { return r.json(); }).then(deliver)
            .catch(function () {});
    }

    function connect() {
        var stream = new EventSource("/api/live");
        stream.addEventListener("ready", function () {
            status("live");
            if (poller) { clearInterval(poller); poller = null; }
        });
        stream.addEventListener("snapshot", function (event) {
            window.precogLastSnapshot = JSON.parse(event.data);  // for tests and the console
            deliver(window.precogLastSnapshot);
        });
        stream.onerror = function () {
            status("reconnecting (polling)");
            if (!poller) { poller = setInterval(poll, POLL_MS); }
        };
    }

    if (window.EventSource) { connect(); } else { poller = setInterval(poll, POLL_MS); }
})();
