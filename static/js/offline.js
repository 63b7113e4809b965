/* NetBranch offline: the queue of actions done offline (IndexedDB), shared by the pages and
   the service worker (importScripts), and on pages: the service worker's registration, the
   "saved on ..." banner, "save for offline", the list of the offline page, sending the queue
   when the network is back, and forgetting everything on logout. Hand-written, no build. */
(function (g) {
  "use strict";
  var DB = "netbranch", STORE = "queue", PAGES = "nb-pages";
  var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  // The forms whose post may be queued (lessons:mark, lessons:check, meetings:reflection_write).
  var ROUTES = [
    [/^\/lessons\/(\d+)\/studied\/$/, "study_mark", "lesson"],
    [/^\/lessons\/(\d+)\/check\/$/, "check_answer", "lesson"],
    [/^\/meetings\/(\d+)\/reflections\/write\/$/, "reflection", "meeting"]
  ];

  function open() {
    return new Promise(function (ok, ko) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      req.onsuccess = function () { ok(req.result); };
      req.onerror = function () { ko(req.error); };
    });
  }
  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (ok, ko) {
        var t = db.transaction(STORE, mode), req = work(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); ok(req && req.result); };
        t.onerror = t.onabort = function () { db.close(); ko(t.error); };
      });
    });
  }
  function uuid() {
    if (g.crypto.randomUUID) return g.crypto.randomUUID();
    var b = g.crypto.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) h.push((b[i] + 256).toString(16).slice(1));
    h = h.join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }
  function route(path) {
    for (var i = 0; i < ROUTES.length; i++) {
      var m = ROUTES[i][0].exec(path);
      if (m) return { kind: ROUTES[i][1], key: ROUTES[i][2], id: +m[1] };
    }
    return null;
  }
  // A queued action from a form's data: the time it happened, an id made here (the check
  // form's own client_id when it has one, so that the server counts that answer once).
  function fromForm(path, form, from) {
    var r = route(path), payload = {}, cid = form.get("client_id");
    payload[r.key] = r.id;
    if (r.kind === "check_answer") {
      payload.answers = {};
      form.forEach(function (v, k) { var m = /^q(\d+)$/.exec(k); if (m) payload.answers[m[1]] = String(v); });
    }
    if (r.kind === "reflection") payload.body = String(form.get("body") || "");
    return {
      client_id: UUID.test(cid || "") ? cid : uuid(), kind: r.kind,
      happened_at: new Date().toISOString(), payload: payload, from: from || ""
    };
  }
  var Q = g.NBQ = {
    PAGES: PAGES, route: route, fromForm: fromForm,
    add: function (item) { return run("readwrite", function (s) { return s.put(item); }).then(function () { return item; }); },
    all: function () { return run("readonly", function (s) { return s.getAll(); }); },
    remove: function (id) { return run("readwrite", function (s) { return s.delete(id); }); },
    clear: function () { return run("readwrite", function (s) { return s.clear(); }); }
  };
  if (typeof document === "undefined") return; // in the service worker: the queue only

  var conf = document.getElementById("nb-offline");
  if (!conf) return; // not logged in
  var C = JSON.parse(conf.textContent), T = C.t, main = document.getElementById("main") || document.body;
  var canCache = "caches" in g && "serviceWorker" in navigator;

  function fmt(text, value) { return text.replace("%s", value); }
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
  function banner(text, cls, id) {
    var b = (id && document.getElementById(id)) || el("div", "msg offline-banner " + (cls || "msg-info"));
    if (id) b.id = id;
    b.setAttribute("role", "status");
    b.textContent = text;
    if (!b.parentNode) main.insertBefore(b, main.firstChild);
    return b;
  }
  function forget() {
    var jobs = [Q.clear().catch(function () {})];
    if ("caches" in g) jobs.push(caches.keys().then(function (keys) { return Promise.all(keys.map(function (k) { return caches.delete(k); })); }));
    try { localStorage.removeItem("nb-user"); } catch (e) { /* private mode */ }
    return Promise.all(jobs);
  }
  function csrf() {
    var m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Another member logs in on this phone: what the previous one kept is not theirs.
  var ready = Promise.resolve();
  try {
    if (localStorage.getItem("nb-user") && localStorage.getItem("nb-user") !== C.user) ready = forget();
    localStorage.setItem("nb-user", C.user);
  } catch (e) { /* private mode */ }
  if (canCache) ready.then(function () { return navigator.serviceWorker.register(C.sw, { scope: "/" }); }).catch(function () {});

  // A page served from the cache says when it was saved.
  var saved = document.querySelector("meta[name=nb-saved]");
  if (saved) banner(fmt(T.saved, when(saved.content)), "msg-warning", "nb-saved-banner");
  if (location.hash === "#queued") banner(T.queued, "msg-warning", "nb-queued-banner");

  // "Save for offline": the service worker fetches and keeps this page.
  function markSaved(button) { button.textContent = T.kept; button.disabled = true; }
  document.querySelectorAll("[data-offline-save]").forEach(function (button) {
    if (!canCache) return;
    button.hidden = false;
    caches.open(PAGES).then(function (c) { return c.match(location.pathname); }).then(function (r) {
      if (r && r.headers.get("X-NB-Pinned") === "1") markSaved(button);
    });
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.serviceWorker.ready.then(function (reg) {
        return new Promise(function (ok, ko) {
          var ch = new MessageChannel();
          ch.port1.onmessage = function (e) { (e.data && e.data.ok ? ok : ko)(); };
          reg.active.postMessage({ type: "save", url: location.pathname }, [ch.port2]);
        });
      }).then(function () { markSaved(button); }, function () {
        button.disabled = false;
        banner(T.notSaved, "msg-error", "nb-save-banner");
      });
    });
  });

  // Offline and the form is one that may wait: keep it here, send it later.
  function queueForm(form) {
    var path = new URL(form.action, location.href).pathname;
    if (!route(path)) return false;
    Q.add(fromForm(path, new FormData(form), location.pathname)).then(function () { queued(form); });
    return true;
  }
  function queued(form) {
    var note = el("p", "msg msg-warning nb-queued", T.queued);
    note.setAttribute("role", "status");
    if (form) {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      form.parentNode.insertBefore(note, form);
    } else banner(T.queued, "msg-warning");
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (new URL(form.action, location.href).pathname === C.logout) {
      e.preventDefault();
      if (!navigator.onLine) { banner(T.logoutOffline, "msg-error"); return; }
      var done = function () { form.submit(); };
      flush().then(forget).then(done, done);
      return;
    }
    if (!navigator.onLine && (form.method || "").toLowerCase() === "post" && queueForm(form)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
  // The network failed under htmx: the service worker queued it and answered 204.
  document.addEventListener("htmx:afterRequest", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.getResponseHeader("X-NB-Queued")) queued(e.detail.elt.closest("form"));
  });

  // Send what waits, oldest first, one at a time; stop at the first network failure.
  var sending = null;
  function flush() {
    if (sending) return sending;
    if (!navigator.onLine) return Promise.resolve();
    sending = Q.all().then(function (items) {
      items.sort(function (a, b) { return a.happened_at < b.happened_at ? -1 : 1; });
      var results = [], stop = false;
      return items.reduce(function (p, item) {
        return p.then(function () {
          if (stop) return;
          return fetch(C.actions, {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
            body: JSON.stringify({ client_id: item.client_id, kind: item.kind, happened_at: item.happened_at, payload: item.payload })
          }).then(function (res) {
            if (res.status >= 500 || res.status === 401 || res.status === 403) {
              stop = true;
              if (res.status < 500) results.push({ item: item, data: { status: "refused", message: T.login } });
              return;
            }
            return res.json().catch(function () { return { status: "refused", message: T.unreadable }; }).then(function (data) {
              results.push({ item: item, data: data });
              return Q.remove(item.client_id);
            });
          }, function () { stop = true; });
        });
      }, Promise.resolve()).then(function () { return Q.all(); }).then(function (left) { report(results, left.length); });
    }).catch(function () {}).then(function () { sending = null; });
    return sending;
  }
  function report(results, left) {
    if (results.length) {
      document.querySelectorAll(".nb-queued, #nb-queued-banner").forEach(function (n) { n.remove(); });
      var box = banner(T.sent, "msg-success", "nb-sent-banner"), list = el("ul", "plain");
      results.forEach(function (r) {
        var li = el("li", r.data.status === "done" ? "ok" : "warn");
        if (r.data.url && r.data.title) {
          var a = el("a", "", r.data.title); a.href = r.data.url;
          li.appendChild(a); li.appendChild(document.createTextNode(": "));
        }
        li.appendChild(document.createTextNode(r.data.message || ""));
        if (r.item.kind === "reflection" && r.data.status !== "done") {
          var d = el("details"); d.appendChild(el("summary", "", T.yourText)); d.appendChild(el("p", "", r.item.payload.body));
          li.appendChild(d);
        }
        list.appendChild(li);
      });
      box.appendChild(list);
    }
    if (left) banner(fmt(T.waiting, left), "msg-warning", "nb-wait-banner");
    else { var w = document.getElementById("nb-wait-banner"); if (w) w.remove(); }
  }
  ready.then(flush);
  g.addEventListener("online", flush);
  if (!navigator.onLine) Q.all().then(function (items) { report([], items.length); }).catch(function () {});

})(self);
