// Clicks on the file tree before the app has taken over the server-rendered page
// (hydration) would do nothing: the last file clicked is remembered here, marked,
// and opened once the app runs. Loaded before everything else, and tiny.
(function () {
  document.addEventListener(
    "click",
    function (ev) {
      if (document.body && document.body.hasAttribute("data-hydrated")) return;
      var row = ev.target.closest && ev.target.closest(".tree-row[data-path]");
      if (!row || row.classList.contains("folder")) return;
      window.__webideEarlyOpen = row.getAttribute("data-path");
      document.querySelectorAll(".tree-row.pending").forEach(function (r) {
        r.classList.remove("pending");
      });
      row.classList.add("pending");
    },
    true,
  );
})();
