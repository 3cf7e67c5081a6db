// The search page, enhanced: the rating of the results is sent without leaving the page (the
// form still posts as it is without a script). The request carries the form's CSRF token in
// the X-CSRF-Token header and asks for JSON; the outcome is said in the form's status line
// (role="status"), in the page's language (the texts come from its data attributes).
export function enhanceRating(root) {
  for (const form of root.querySelectorAll("form[data-search-rating]")) {
    const status = form.querySelector("[data-search-rating-status]");
    if (!status || !window.fetch) {
      continue;
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = new URLSearchParams(new FormData(form));
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: {
            Accept: "application/json",
            "X-CSRF-Token": form.elements._csrf_token.value,
          },
        });
        if (!response.ok) {
          throw new Error(`HTTP ${response.status}`);
        }
        const saved = await response.json();
        status.textContent = status.dataset.sent.replace("{rating}", String(saved.rating));
      } catch {
        status.textContent = status.dataset.failed;
      } finally {
        button.disabled = false;
      }
    });
  }
}

enhanceRating(document);
