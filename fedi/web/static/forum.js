// The forum's only script: a copy button for a group's fediverse handle.
// Without JavaScript the button stays hidden and the handle can be selected by hand.
"use strict";
document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
  if (!navigator.clipboard) {
    return;
  }
  var status = button.parentElement.querySelector(".copy-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(button.dataset.copy).then(function () {
      if (status) {
        status.textContent = button.dataset.copied || "";
      }
    });
  });
});
