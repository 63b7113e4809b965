/* NetBranch service worker, hand-written (version __VERSION__).
   Static files: cache first. Pages: network first; lessons, documents, notices, plans, my
   study, the meetings (a meeting and its reflections) and home are kept when opened (the 30 latest) or saved for offline
   (kept until removed or logout), and shown from the cache, with the time they were saved,
   when the network fails. A lesson or reflection form posted while the network fails is
   queued (offline.js) and sent by the page when the network is back. */
"use strict";
importScripts({{ queue_js|safe }});

var VERSION = "__VERSION__";
var SHELL = "nb-shell-" + VERSION;
var PAGES = self.NBQ.PAGES;
var SHELL_URLS = {{ shell|safe }};
var OFFLINE = {{ offline|safe }};
var STATIC = {{ static_prefix|safe }};
var KEEP_OPENED = 30;
var REFRESH_MS = 10 * 60 * 1000;
var COMPANIONS = ["/study/", "/meetings/"];
var KEPT = /^\/(?:(?:lessons|documents|notices|plans|meetings)\/\d+\/(?:reflections\/)?|study\/|meetings\/)?$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(SHELL_URLS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("nb-shell-") === 0 && k !== SHELL; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function entities(text) {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, function (m, e) {
    return { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" }[e];
  });
}

// Keep a page: the HTML gets a <meta name="nb-saved"> (the page's script shows "saved on ...")
// and the copy carries its title, the time and whether the member saved it on purpose.
function keep(path, response, pinned) {
  return caches.open(PAGES).then(function (c) {
    return c.match(path).then(function (old) {
      pinned = pinned || (old && old.headers.get("X-NB-Pinned") === "1");
      return response.text().then(function (html) {
        var at = new Date().toISOString();
        var m = /<title>([\s\S]*?)<\/title>/.exec(html);
        var title = m ? entities(m[1].replace(/\s+/g, " ").split(" · ")[0].trim()) : path;
        html = html.replace("<head>", '<head><meta name="nb-saved" content="' + at + '">');
        return c.put(path, new Response(html, { headers: {
          "Content-Type": "text/html; charset=utf-8", "X-NB-Saved": at,
          "X-NB-Title": encodeURIComponent(title), "X-NB-Pinned": pinned ? "1" : "0"
        } }));
      });
    }).then(function () { return pinned ? null : trim(c); });
  });
}

function trim(c) {
  return c.keys().then(function (keys) {
    return Promise.all(keys.map(function (k) { return c.match(k).then(function (r) { return { k: k, r: r }; }); }));
  }).then(function (rows) {
    var opened = rows.filter(function (x) { return x.r && x.r.headers.get("X-NB-Pinned") !== "1"; });
    opened.sort(function (a, b) { return a.r.headers.get("X-NB-Saved") < b.r.headers.get("X-NB-Saved") ? 1 : -1; });
    return Promise.all(opened.slice(KEEP_OPENED).map(function (x) { return c.delete(x.k); }));
  });
}

function fetchPage(path) {
  return fetch(path, { credentials: "same-origin", redirect: "follow" }).then(function (r) {
    var html = (r.headers.get("Content-Type") || "").indexOf("text/html") === 0;
    if (!r.ok || r.redirected || !html) throw new Error("not a page");
    return r;
  });
}

// My study (the current plans) and the next meetings, refreshed when home is visited or
// something is saved, at most every ten minutes.
function companions() {
  return caches.open(PAGES).then(function (c) {
    return Promise.all(COMPANIONS.map(function (path) {
      return c.match(path).then(function (old) {
        var at = old && Date.parse(old.headers.get("X-NB-Saved"));
        if (at && Date.now() - at < REFRESH_MS) return null;
        return fetchPage(path).then(function (r) { return keep(path, r, false); });
      }).catch(function () {});
    }));
  });
}

function page(event, url) {
  return fetch(event.request).then(function (response) {
    var html = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
    if (response.ok && !response.redirected && html && !url.search && KEPT.test(url.pathname)) {
      event.waitUntil(keep(url.pathname, response.clone(), false).then(function () {
        return url.pathname === "/" ? companions() : null;
      }).catch(function () {}));
    }
    return response;
  }, function () {
    return caches.open(PAGES).then(function (c) { return c.match(url.pathname); }).then(function (hit) {
      return hit || caches.match(OFFLINE).then(function (off) { return off || Response.error(); });
    });
  });
}

function staticFirst(event) {
  return caches.match(event.request).then(function (hit) {
    return hit || fetch(event.request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        event.waitUntil(caches.open(SHELL).then(function (c) { return c.put(event.request, copy); }));
      }
      return response;
    });
  });
}

// A study or reflection form posted while the network fails: queued, never lost.
function postOrQueue(event, path) {
  var copy = event.request.clone();
  return fetch(event.request).catch(function () {
    return copy.formData().then(function (form) {
      var from = copy.referrer ? new URL(copy.referrer) : null;
      var back = from && from.origin === self.location.origin ? from.pathname : OFFLINE;
      return self.NBQ.add(self.NBQ.fromForm(path, form, back)).then(function (item) {
        if (copy.headers.get("HX-Request")) {
          return new Response(null, { status: 204, headers: { "X-NB-Queued": item.client_id } });
        }
        return Response.redirect(back + "#queued", 303);
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var req = event.request, url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method === "POST") {
    if (self.NBQ.route(url.pathname)) event.respondWith(postOrQueue(event, url.pathname));
    return;
  }
  if (req.method !== "GET") return;
  if (url.pathname.indexOf(STATIC) === 0) event.respondWith(staticFirst(event));
  else if (req.mode === "navigate") event.respondWith(page(event, url));
});

// From a page: "save for offline" (answered through the message port) and nothing else.
self.addEventListener("message", function (event) {
  var data = event.data || {}, port = event.ports && event.ports[0];
  if (data.type !== "save" || typeof data.url !== "string" || !KEPT.test(data.url)) {
    if (port) port.postMessage({ ok: false });
    return;
  }
  event.waitUntil(fetchPage(data.url).then(function (r) { return keep(data.url, r, true); })
    .then(companions)
    .then(function () { if (port) port.postMessage({ ok: true }); }, function () { if (port) port.postMessage({ ok: false }); }));
});
