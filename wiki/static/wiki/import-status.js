// Follows a MediaWiki import on its status page: fetches the page again every two seconds and puts its
// status in place (a polite live region), then loads the page once more when the import is over, for the report.
(function () {
  "use strict";
  var region = document.getElementById("import-status");
  if (!region) { return; }
  function check() {
    fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("import-status");
        if (!fresh) { return; }
        var state = fresh.getAttribute("data-state");
        if (state === "done" || state === "failed") {
          window.location.reload();
          return;
        }
        region.innerHTML = fresh.innerHTML;
        window.setTimeout(check, 2000);
      })
      .catch(function () { window.setTimeout(check, 5000); });
  }
  window.setTimeout(check, 1000);
}());
