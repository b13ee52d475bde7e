// Sign-in: a username and password form over `POST /auth/login`.

import { api, session } from "../api.js";
import { navigate } from "../app.js";
import { h, mount } from "../ui.js";

export default function login({ main, search }) {
  document.title = "Sign in · Berth";
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "card login",
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        error.hidden = true;
        try {
          const answer = await api("/auth/login", {
            method: "POST",
            body: { username: username.value.trim(), password: password.value },
            allowSignedOut: true,
          });
          session.token = answer.token;
          navigate(nextPage(search.get("next")), { replace: true });
        } catch (failure) {
          error.textContent = failure.status === 401 ? "That username and password do not match." : failure.message;
          error.hidden = false;
          password.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", {}, "Sign in to Berth"),
    h("label", { for: "username" }, "Username"),
    username,
    h("label", { for: "password" }, "Password"),
    password,
    error,
    submit,
  );
  mount(main, h("div", { class: "login-wrap" }, form));
  main.classList.add("centered");
  username.focus();
}

// Where to go after signing in: the page that sent the person here, if it is a page of this
// console. The URL parser decides, not string checks, so `//evil`, `/\evil` and the like,
// which browsers read as other hosts, go to the image list instead.
function nextPage(next) {
  if (!next) return "/images";
  try {
    const url = new URL(next, location.origin);
    if (url.origin === location.origin) return url.pathname + url.search + url.hash;
  } catch {
    // Not a URL at all.
  }
  return "/images";
}
