// The console's shell: routes a path to a page module, draws the header with the workspace
// switcher, and turns same-origin link clicks into history navigation. Pages are loaded on
// demand, so the image list downloads only what it draws.

import { api, session, query } from "./api.js";
import { h, mount, errorState, loadingState } from "./ui.js";

const LAST_WORKSPACE = "berth.workspace";

// [pattern, module, options]. `:name` matches one segment, `*name` the rest of the path.
const routes = [
  ["/login", "./pages/login.js", { signedOut: true }],
  ["/", "./pages/images.js", {}],
  ["/images", "./pages/images.js", {}],
  ["/images/:registry/*repository", "./pages/image.js", {}],
  ["/select", "./pages/select.js", { bare: true }],
  ["/admin", "./pages/admin.js", { admin: true }],
  ["/admin/:section", "./pages/admin.js", { admin: true }],
];

function match(pathname) {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  for (const [pattern, module, options] of routes) {
    const want = pattern.split("/").filter(Boolean);
    const params = {};
    let ok = true;
    for (let i = 0; i < want.length && ok; i += 1) {
      if (want[i].startsWith("*")) {
        params[want[i].slice(1)] = parts.slice(i).join("/");
        ok = parts.length > i;
        if (ok) return { module, options, params };
      } else if (want[i].startsWith(":")) {
        if (parts[i] === undefined) ok = false;
        else params[want[i].slice(1)] = parts[i];
      } else if (want[i] !== parts[i]) ok = false;
    }
    if (ok && want.length === parts.length) return { module, options, params };
  }
  return null;
}

let me = null;
let renderCount = 0;

// The workspace the page is about: `?workspace=`, else the last one used, else the first.
export function currentWorkspace(search = new URLSearchParams(location.search)) {
  const names = (me?.workspaces || []).map((w) => w.name);
  const wanted = search.get("workspace") || localStorage.getItem(LAST_WORKSPACE);
  if (wanted && (names.includes(wanted) || me?.is_admin)) return wanted;
  return names[0] || null;
}

export function rememberWorkspace(name) {
  if (name) localStorage.setItem(LAST_WORKSPACE, name);
}

// A console URL for `path` keeping the current workspace: link("/images", {q: "x"}).
export function link(path, params = {}, workspace = currentWorkspace()) {
  return path + query({ workspace, ...params });
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

async function loadMe() {
  if (!session.token) return null;
  try {
    return await api("/me", { allowSignedOut: true });
  } catch (error) {
    if (error.status === 401) {
      session.token = null;
      return null;
    }
    throw error;
  }
}

// Every workspace the switcher offers: a member's own, or all of them for a platform admin.
let workspaceNames = null;
async function switcherNames() {
  if (workspaceNames) return workspaceNames;
  if (!me.is_admin) {
    workspaceNames = me.workspaces.map((w) => w.name);
  } else {
    const answer = await api("/workspaces?limit=500");
    workspaceNames = answer.items.map((w) => w.name);
  }
  return workspaceNames;
}

export function forgetWorkspaces() {
  workspaceNames = null;
}

async function header(workspace, active) {
  const names = await switcherNames();
  const switcher = h(
    "select",
    {
      id: "workspace-switcher",
      "aria-label": "Workspace",
      onchange: (event) => {
        rememberWorkspace(event.target.value);
        const search = new URLSearchParams(location.search);
        search.set("workspace", event.target.value);
        // A detail page belongs to its workspace; switching goes back to the list.
        const path = location.pathname.startsWith("/images/") ? "/images" : location.pathname;
        navigate(`${path}?${search}`);
      },
    },
    names.length ? null : h("option", { value: "" }, "No workspace"),
    names.map((name) => h("option", { value: name, selected: name === workspace }, name)),
  );
  const nav = [
    ["images", "Images", link("/images", {}, workspace)],
    ["select", "Selector", link("/select", {}, workspace)],
  ];
  if (me.is_admin || me.workspaces.some((w) => w.role === "admin")) {
    nav.push(["admin", "Admin", link("/admin", {}, workspace)]);
  }
  return h(
    "header",
    { class: "topbar" },
    h("a", { class: "brand", href: link("/images", {}, workspace) }, "Berth"),
    h(
      "nav",
      { "aria-label": "Main" },
      nav.map(([key, label, href]) =>
        h("a", { href, class: key === active ? "active" : null, "aria-current": key === active ? "page" : null }, label),
      ),
    ),
    h("div", { class: "spacer" }),
    h("label", { class: "switcher" }, h("span", { class: "label" }, "Workspace"), switcher),
    h("span", { class: "who", title: me.email || "" }, me.username),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => {
          session.token = null;
          me = null;
          workspaceNames = null;
          navigate("/login");
        },
      },
      "Sign out",
    ),
  );
}

export async function render() {
  const count = ++renderCount;
  const root = document.getElementById("app");
  const found = match(location.pathname);
  if (!found) {
    mount(root, h("main", { id: "main", class: "page" }, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/images" }, "Go to the image list"))));
    return;
  }
  try {
    if (!me && !found.options.signedOut) me = await loadMe();
    if (!me && !found.options.signedOut) {
      navigate(`/login${query({ next: location.pathname + location.search })}`, { replace: true });
      return;
    }
    if (location.pathname === "/") {
      navigate(link("/images"), { replace: true });
      return;
    }
    const search = new URLSearchParams(location.search);
    const workspace = me ? currentWorkspace(search) : null;
    if (workspace) rememberWorkspace(workspace);
    const main = h("main", { id: "main", class: "page", tabindex: "-1" }, loadingState());
    const section = location.pathname.split("/")[1] || "images";
    const wantsHeader = me && !found.options.signedOut && !(found.options.bare && search.get("embed") === "1");
    // The header's workspace list and the page's module load side by side.
    const [top, page] = await Promise.all([
      wantsHeader ? header(workspace, section) : null,
      import(found.module),
    ]);
    if (count !== renderCount) return;
    mount(root, top, main);
    await page.default({
      main,
      params: found.params,
      search,
      me,
      workspace,
      setMe: (value) => {
        me = value;
        workspaceNames = null;
      },
      isCurrent: () => count === renderCount,
    });
  } catch (error) {
    if (count !== renderCount) return;
    mount(root, h("main", { id: "main", class: "page" }, errorState(error, () => render())));
  }
}

// Same-origin links navigate inside the console, except API, registry and download links.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.target.closest("a[href]");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || /^\/(api|v2|auth)\//.test(url.pathname)) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});
window.addEventListener("popstate", () => render());
render();
