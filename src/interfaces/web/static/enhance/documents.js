// The documents pages, enhanced. Everything works without this script: the trash, restore
// and purge forms lead to a confirmation page, every bulk field is shown, and documents are
// selected one by one. With it:
// - a form with `data-confirm` asks in a dialog, and on "OK" is sent as confirmed (the
//   server then skips its confirmation page);
// - the bulk form shows only the fields its action uses, counts the selection aloud
//   (`aria-live`), and gains a "select all on this page" box.

function enhanceConfirmations(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      let confirmed = form.querySelector("input[name=confirmed]");
      if (!confirmed) {
        confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirmed";
        form.append(confirmed);
      }
      confirmed.value = "yes";
    });
  }
}

function enhanceBulkForm(root) {
  const form = root.querySelector("#bulk-form");
  if (!form) {
    return;
  }
  const boxes = [...root.querySelectorAll('input[type=checkbox][name=ids][form="bulk-form"]')];
  const count = form.querySelector(".documents-selection");
  const action = form.querySelector("select[name=action]");

  const showFields = () => {
    for (const field of form.querySelectorAll("[data-bulk-for]")) {
      field.hidden = !field.dataset.bulkFor.split(" ").includes(action.value);
    }
  };
  action?.addEventListener("change", showFields);
  showFields();

  const selectAll = document.createElement("input");
  selectAll.type = "checkbox";
  selectAll.id = "select-all";
  selectAll.setAttribute("aria-label", form.dataset.selectAllText);
  const header = root.querySelector(".documents-table thead .documents-table__select");
  header?.replaceChildren(selectAll);

  const update = () => {
    const chosen = boxes.filter((box) => box.checked).length;
    count.textContent = chosen ? form.dataset.selectedText.replace("{count}", String(chosen)) : "";
    selectAll.checked = chosen > 0 && chosen === boxes.length;
    selectAll.indeterminate = chosen > 0 && chosen < boxes.length;
  };
  selectAll.addEventListener("change", () => {
    for (const box of boxes) {
      box.checked = selectAll.checked;
    }
    update();
  });
  for (const box of boxes) {
    box.addEventListener("change", update);
  }
  update();
}

enhanceConfirmations(document);
enhanceBulkForm(document);
