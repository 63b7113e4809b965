/* NetBranch offline page (/offline/): lists the pages this phone keeps (read from the cache
   the service worker fills) and the actions waiting to be sent (the queue of offline.js). */
(function () {
  "use strict";
  var list = document.querySelector("[data-offline-list]"), conf = document.getElementById("nb-offline-page");
  if (!list || !conf || !("caches" in window)) return;
  var T = JSON.parse(conf.textContent);
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString(document.documentElement.lang || undefined, { dateStyle: "medium", timeStyle: "short" });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  caches.open("nb-pages").then(function (c) {
    return c.keys().then(function (keys) {
      return Promise.all(keys.map(function (k) { return c.match(k).then(function (r) { return { url: new URL(k.url).pathname, r: r }; }); }));
    }).then(function (rows) {
      rows = rows.filter(function (x) { return x.r; }).map(function (x) {
        var h = x.r.headers;
        return { url: x.url, title: decodeURIComponent(h.get("X-NB-Title") || "") || x.url, at: h.get("X-NB-Saved") || "", pinned: h.get("X-NB-Pinned") === "1" };
      }).sort(function (a, b) { return a.at < b.at ? 1 : -1; });
      rows.forEach(function (x) {
        var li = el("li", "offline-item"), a = el("a", "", x.title);
        a.href = x.url;
        li.appendChild(a);
        li.appendChild(el("span", "muted", " · " + (x.pinned ? T.keptOn : T.openedOn).replace("%s", when(x.at)) + " "));
        if (x.pinned) {
          var b = el("button", "link", T.remove);
          b.type = "button";
          b.addEventListener("click", function () { c.delete(x.url).then(function () { li.remove(); }); });
          li.appendChild(b);
        }
        list.appendChild(li);
      });
      if (rows.length) document.querySelectorAll("[data-offline-empty]").forEach(function (p) { p.hidden = true; });
    });
  });
  var waiting = document.querySelector("[data-offline-queue]");
  if (waiting && window.NBQ) window.NBQ.all().then(function (items) {
    items.forEach(function (item) {
      waiting.appendChild(el("li", "", (T.kinds[item.kind] || item.kind) + " · " + when(item.happened_at)));
    });
    if (items.length) waiting.hidden = false;
  });
})();
