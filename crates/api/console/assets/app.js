// The console's shell: routes a path to a page module, draws the header with the workspace
// switcher, and turns same-origin link clicks into history navigation. Pages are loaded on
// demand, so the image list downloads only what it draws.

import { api, session, query, seg, storage } from "./api.js";
import { h, mount, errorState, loadingState } from "./ui.js";

const LAST_WORKSPACE = "berth.workspace";

// [pattern, module, options]. `:name` matches one segment, `*name` the rest of the path.
// `bare`: the page may drop the header (`?embed=1`) and may be shown inside another site's
// frame, which is why it is the only one served with `frame-ancestors *`.
const routes = [
  ["/login", "./pages/login.js", { signedOut: true }],
  ["/", "./pages/images.js", {}],
  ["/images", "./pages/images.js", {}],
  ["/images/:registry/*repository", "./pages/image.js", {}],
  ["/select", "./pages/select.js", { bare: true }],
  ["/admin", "./pages/admin.js", {}],
  ["/admin/:section", "./pages/admin.js", {}],
];

function match(pathname) {
  let parts;
  try {
    parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    // A malformed escape (`%E0%A4%A`) names no page.
    return null;
  }
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

// The workspace the page is about: `?workspace=`, else the last one used, else the first
// the person may open (their own, or any for a platform admin).
export function currentWorkspace(search = new URLSearchParams(location.search)) {
  const names = workspaceNames || (me?.workspaces || []).map((w) => w.name);
  const wanted = search.get("workspace") || storage()?.getItem(LAST_WORKSPACE);
  if (wanted && names.includes(wanted)) return wanted;
  return names[0] || null;
}

export function rememberWorkspace(name) {
  if (name) storage()?.setItem(LAST_WORKSPACE, name);
}

// A console URL for `path` keeping the current workspace: link("/images", {q: "x"}).
export function link(path, params = {}, workspace = currentWorkspace()) {
  return path + query({ workspace, ...params });
}

// The detail page of one repository: its path segments are encoded one by one, so `/` stays
// a separator in the address.
export function imageHref(workspace, registry, repository, params = {}) {
  return link(`/images/${seg(registry)}/${repository.split("/").map(seg).join("/")}`, params, workspace);
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

// Every workspace the switcher offers: a member's own, or all of them for a platform admin,
// page by page.
let workspaceNames = null;
async function loadWorkspaceNames() {
  if (workspaceNames) return workspaceNames;
  if (!me.is_admin) {
    workspaceNames = me.workspaces.map((w) => w.name);
    return workspaceNames;
  }
  const names = [];
  let cursor = null;
  do {
    const answer = await api(`/workspaces${query({ limit: 500, cursor })}`);
    names.push(...answer.items.map((w) => w.name));
    cursor = answer.next_cursor;
  } while (cursor);
  workspaceNames = names;
  return names;
}

export function forgetWorkspaces() {
  workspaceNames = null;
}

function header(workspace, active) {
  const names = workspaceNames;
  const switcher = h(
    "select",
    {
      id: "workspace-switcher",
      "aria-label": "Workspace",
      onchange: (event) => {
        rememberWorkspace(event.target.value);
        // Only the workspace carries over: a cursor, a search or an open artifact belong to
        // the list they came from. A detail page goes back to the list.
        const path = location.pathname.startsWith("/images/") ? "/images" : location.pathname;
        navigate(link(path, {}, event.target.value));
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

function notFound(root) {
  mount(root, h("main", { id: "main", class: "page", tabindex: "-1" }, h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/images" }, "Go to the image list"))));
}

// Inside another site's frame only the selector is shown, and only to someone already signed
// in: a sign-in form or an admin page in a frame invites clickjacking and fake prompts.
function isFramed() {
  try {
    return window.top !== window.self;
  } catch {
    return true;
  }
}

function openOutside(root) {
  const here = location.pathname + location.search;
  mount(
    root,
    h(
      "main",
      { id: "main", class: "page", tabindex: "-1" },
      h("h1", {}, "Open Berth in a window of its own"),
      h("p", {}, "Berth does not sign in or show this page inside another site. Open it, sign in there, then come back."),
      h("a", { class: "button primary", href: here, target: "_blank", rel: "noopener" }, "Open Berth"),
    ),
  );
}

export async function render() {
  const count = ++renderCount;
  const root = document.getElementById("app");
  const found = match(location.pathname);
  if (!found) {
    notFound(root);
    return;
  }
  const framed = isFramed();
  if (framed && (!found.options.bare || !session.token)) {
    openOutside(root);
    return;
  }
  try {
    if (location.pathname === "/") {
      navigate(`/images${location.search}`, { replace: true });
      return;
    }
    // Who is signed in is asked again on every page, so a changed role or membership shows
    // at once; the page's module loads meanwhile.
    const [who, page] = await Promise.all([
      found.options.signedOut ? null : loadMe(),
      import(found.module),
    ]);
    if (count !== renderCount) return;
    if (!found.options.signedOut) {
      if (!who) {
        if (framed) openOutside(root);
        else navigate(`/login${query({ next: location.pathname + location.search })}`, { replace: true });
        return;
      }
      // A platform admin's list of every workspace is kept from page to page (admin pages
      // drop it after changes); anyone else's comes from the fresh `/me`.
      const sameAdmin = who.is_admin && me?.is_admin && me.username === who.username;
      if (!sameAdmin) workspaceNames = null;
      me = who;
      await loadWorkspaceNames();
      if (count !== renderCount) return;
    }
    const search = new URLSearchParams(location.search);
    const workspace = found.options.signedOut ? null : currentWorkspace(search);
    if (workspace) {
      rememberWorkspace(workspace);
      // The address names the workspace it shows, so it can be shared or bookmarked as is.
      if (search.get("workspace") !== workspace) {
        search.set("workspace", workspace);
        history.replaceState(null, "", `${location.pathname}?${search}${location.hash}`);
      }
    }
    const main = h("main", { id: "main", class: "page", tabindex: "-1" }, loadingState());
    const section = location.pathname.split("/")[1] || "images";
    const wantsHeader = !found.options.signedOut && !(found.options.bare && search.get("embed") === "1");
    mount(root, wantsHeader ? header(workspace, section) : null, main);
    // After a navigation inside the console, keyboard and screen-reader users start at the
    // new page's content, as after a page load they start at the skip link. A page may move
    // focus further (a form's first field, an opened artifact).
    if (count > 1) main.focus({ preventScroll: true });
    await page.default({
      main,
      params: found.params,
      search,
      me: found.options.signedOut ? null : me,
      workspace,
      isCurrent: () => count === renderCount,
    });
  } catch (error) {
    if (count !== renderCount) return;
    mount(root, h("main", { id: "main", class: "page" }, errorState(error, () => render())));
  }
}

// Same-origin links navigate inside the console, except API, registry and download links;
// links within the page (`#main`, the skip link) only move focus.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.target.closest("a[href]");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const url = new URL(anchor.href, location.href);
  if (url.origin !== location.origin || /^\/(api|v2|auth)\//.test(url.pathname)) return;
  event.preventDefault();
  if (url.hash && url.pathname === location.pathname && url.search === location.search) {
    // A link within the page (the skip link): move focus there. Letting the browser follow
    // it would add a history entry whose popstate draws the page again.
    document.getElementById(decodeURIComponent(url.hash.slice(1)))?.focus();
    return;
  }
  navigate(url.pathname + url.search + url.hash);
});
window.addEventListener("popstate", () => render());
render();
