// The administration pages, enhanced: a "Copy" button beside a secret shown once (a new
// token, a set-password link), with a polite announcement once it is copied. The page
// names both in the secret's `data-copy-label` and `data-copied-label` (translated there).
// Without scripts one click selects the whole secret (CSS user-select: all).
function enhanceSecrets(root) {
  if (!navigator.clipboard) return;
  for (const secret of root.querySelectorAll(".secret__value[data-copy-label]")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button--quiet";
    button.textContent = secret.dataset.copyLabel;
    button.setAttribute("aria-describedby", secret.id);
    const said = document.createElement("span");
    said.setAttribute("aria-live", "polite");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(secret.textContent.trim());
        said.textContent = ` ${secret.dataset.copiedLabel}`;
      } catch {
        said.textContent = "";
      }
    });
    secret.after(button, said);
  }
}

enhanceSecrets(document);
