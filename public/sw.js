// Service worker: keeps the app (the WASM bundle, its JS and CSS, Monaco and
// xterm.js) and the session pages the user visited, so a session reloads with the
// network down. Always the network first, so an online page is never stale; the
// cache answers only when the network does not. API calls, sockets and events are
// not touched: the page's own offline copy (IndexedDB) covers the data.

const APP = "webide-app-v1";
const PAGES = "webide-pages";
const SESSION_PAGE = /^\/s\/[0-9a-f-]{36}$/;
// A network that hangs is as good as none for a page load.
const NAVIGATION_TIMEOUT_MS = 4000;

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== APP && name !== PAGES) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

function cacheFor(url) {
  if (SESSION_PAGE.test(url.pathname)) return PAGES;
  if (/^\/(pkg|vendor)\//.test(url.pathname) || url.pathname === "/favicon.svg" || url.pathname === "/early.js")
    return APP;
  return null;
}

async function fromNetwork(request, cacheName) {
  const response = await fetch(request);
  // Only complete, successful answers are kept: never a 401 or 404 page.
  if (cacheName && response.status === 200 && !response.redirected) {
    const copy = response.clone();
    await (await caches.open(cacheName)).put(request, copy);
  }
  return response;
}

const OFFLINE_PAGE = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Offline · WebIDE</title>
<style>body{font-family:system-ui,sans-serif;background:#1e1e1e;color:#ddd;display:grid;place-items:center;height:100vh;margin:0}
main{max-width:32rem;padding:2rem}a{color:#4fc1ff}</style></head><body><main><h1>You are offline</h1>
<p>This page has no copy on this device, so it cannot open without the server.
Sessions opened here before open offline; this one will once the connection is back.</p>
<p><a href="">Try again</a></p></main></body></html>`;

function offlinePage() {
  return new Response(OFFLINE_PAGE, {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

async function navigate(request, cacheName) {
  const network = fromNetwork(request, cacheName);
  const kept = cacheName && (await caches.match(request, { ignoreVary: true }));
  if (!kept) return network.catch(offlinePage);
  // With a copy at hand, a network that hangs is as good as none.
  const timeout = new Promise((resolve) => setTimeout(() => resolve(kept), NAVIGATION_TIMEOUT_MS));
  return Promise.race([network.catch(() => kept), timeout]);
}

async function asset(request, cacheName) {
  try {
    return await fromNetwork(request, cacheName);
  } catch (e) {
    const kept = await caches.match(request, { ignoreSearch: true, ignoreVary: true });
    if (kept) return kept;
    throw e;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const cacheName = cacheFor(url);
  if (request.mode === "navigate") {
    event.respondWith(navigate(request, cacheName));
  } else if (cacheName) {
    event.respondWith(asset(request, cacheName));
  }
});

// From a page: keep what it loaded before this worker controlled it, and the page
// itself. Answers on the given port once everything is stored.
self.addEventListener("message", (event) => {
  if (event.data?.type !== "keep") return;
  const port = event.ports[0];
  event.waitUntil(
    (async () => {
      const app = await caches.open(APP);
      for (const path of event.data.urls) {
        if (!(await app.match(path))) await app.add(path);
      }
      if (event.data.page) {
        const response = await fetch(event.data.page, { credentials: "same-origin" });
        if (response.status === 200 && !response.redirected) {
          await (await caches.open(PAGES)).put(event.data.page, response);
        }
      }
    })().then(
      () => port?.postMessage({ ok: true }),
      (e) => port?.postMessage({ ok: false, error: String(e) }),
    ),
  );
});
