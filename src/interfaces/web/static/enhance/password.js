// A "Show password" toggle beside each password field that names its label in
// `data-show-label` (translated by the page). A toggle button: the label stays, its pressed
// state says whether the password is shown. The field is hidden again before its form is
// sent, so the browser offers to save it as a password.
export function enhancePasswordFields(root) {
  for (const input of root.querySelectorAll("input[type=password][data-show-label]")) {
    const wrapper = document.createElement("div");
    wrapper.className = "password-field";
    input.replaceWith(wrapper);
    wrapper.append(input);

    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "button button--quiet";
    toggle.textContent = input.dataset.showLabel;
    toggle.setAttribute("aria-controls", input.id);
    toggle.setAttribute("aria-pressed", "false");
    toggle.addEventListener("click", () => {
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      toggle.setAttribute("aria-pressed", String(show));
    });
    wrapper.append(toggle);

    input.form?.addEventListener("submit", () => {
      input.type = "password";
      toggle.setAttribute("aria-pressed", "false");
    });
  }
}
