// The page's side of the service worker (/sw.js): registers it and hands it what
// this page loaded before it was in control, so a reload works offline.

const PAGES = "webide-pages";

function sameOriginAssets() {
  return performance
    .getEntriesByType("resource")
    .map((e) => new URL(e.name))
    .filter((u) => u.origin === location.origin && /^\/(pkg|vendor)\//.test(u.pathname))
    .map((u) => u.pathname + u.search);
}

// Resolves once the worker holds the app's files and `page` (a session page's path).
export async function keepApp(page) {
  if (!("serviceWorker" in navigator)) throw new Error("no service workers in this browser");
  await navigator.serviceWorker.register("/sw.js");
  const reg = await navigator.serviceWorker.ready;
  const workers = await fetch("/vendor/monaco/offline.json")
    .then((r) => (r.ok ? r.json() : []))
    .catch(() => []);
  const urls = [...new Set([...sameOriginAssets(), ...workers])];
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => (e.data.ok ? resolve() : reject(new Error(e.data.error)));
    reg.active.postMessage({ type: "keep", urls, page }, [channel.port2]);
  });
}

// Signing out: no page of this user stays readable offline.
export async function forgetPages() {
  if ("caches" in self) await caches.delete(PAGES);
}
