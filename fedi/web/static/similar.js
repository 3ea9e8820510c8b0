// Similar threads while a new thread's title is typed (progressive enhancement): the
// form's "Prüfen" button does the same without JavaScript. The list comes from the server
// as escaped HTML (/search/similar, fedi/web/search_pages.py), 400 ms after the last key.
"use strict";
(function () {
  var region = document.getElementById("similar");
  var title = document.getElementById("f-title");
  if (!region || !title || !window.fetch) {
    return;
  }
  var url = region.dataset.similarUrl;
  var timer = null;
  var last = title.value.trim();
  var sent = 0;
  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var value = title.value.trim();
      if (value === last) {
        return;
      }
      last = value;
      var mine = ++sent;
      if (value.length < 3) {
        region.innerHTML = "";
        return;
      }
      fetch(url + "?title=" + encodeURIComponent(value), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (mine === sent) {  // an older answer arriving late is dropped
            region.innerHTML = html;
          }
        })
        .catch(function () { /* the "Prüfen" button still works */ });
    }, 400);
  });
})();
