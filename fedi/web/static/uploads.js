// Files in the post form (progressive enhancement; the form works without it,
// fedi/web/upload_forms.py): a small preview of a chosen picture beside its slot, and
// files dropped onto the fieldset go into the next empty slots. Nothing is sent earlier
// than without the script.
"use strict";
(function () {
  var box = document.querySelector(".upload-fields");
  if (!box || !window.FileReader) {
    return;
  }
  var inputs = Array.prototype.slice.call(box.querySelectorAll('input[type="file"]'));

  function preview(input) {
    var slot = input.closest(".upload-slot");
    if (!slot) {
      return;
    }
    var old = slot.querySelector("img.upload-preview");
    if (old) {
      old.remove();
    }
    var file = input.files && input.files[0];
    if (!file || !/^image\/(jpeg|png|webp|gif)$/.test(file.type) || file.size > 20e6) {
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      var img = document.createElement("img");
      img.className = "upload-preview";
      img.src = reader.result;  // a data: URL (the page's CSP allows no blob:)
      img.alt = "";  // decorative: the slot's label and the alt text field say what it is
      img.height = 80;
      input.insertAdjacentElement("afterend", img);
    };
    reader.readAsDataURL(file);
  }

  inputs.forEach(function (input) {
    input.addEventListener("change", function () { preview(input); });
  });

  if (!window.DataTransfer) {
    return;
  }
  box.addEventListener("dragover", function (event) {
    event.preventDefault();
    box.classList.add("dragging");
  });
  box.addEventListener("dragleave", function () { box.classList.remove("dragging"); });
  box.addEventListener("drop", function (event) {
    event.preventDefault();
    box.classList.remove("dragging");
    var files = Array.prototype.slice.call(event.dataTransfer.files || []);
    inputs.forEach(function (input) {
      if (!files.length || (input.files && input.files.length)) {
        return;
      }
      var one = new DataTransfer();
      one.items.add(files.shift());
      input.files = one.files;
      preview(input);
    });
  });
})();
