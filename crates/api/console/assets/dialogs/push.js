// The push dialog: every common client's lines for pushing into one of the workspace's hosted
// spaces, as the API prints them, and a temporary login that puts a short-lived robot's
// secret into those lines. The secret lives only in this dialog's memory: closing it forgets
// the secret, and nothing of it reaches localStorage.

import { api, seg, query, latestRequest } from "../api.js";
import {
  h, mount, copyButton, openDialog, loadingState, errorState, emptyState, debounce, useStyles,
  relativeTime, exactTime,
} from "../ui.js";

const CLIENTS = ["docker", "podman", "nerdctl", "skopeo", "helm", "oras"];
const LAST_CLIENT = "berth.push.client";

// The hosted spaces a workspace can push to: the ones bound to it. (Public spaces take pushes
// only from workspaces bound to them too, so the bound list is the whole answer.)
export async function hostedSpaces(workspace) {
  const answer = await api(`/workspaces/${seg(workspace)}/spaces${query({ limit: 500 })}`);
  return answer.items.filter((space) => space.registry === "hosted").map((space) => space.name).sort();
}

// What to show when the workspace has no hosted space: who can change that, and how.
export function noSpaces(workspace) {
  return emptyState(
    "No space to push to",
    h("p", {}, `No hosted space is bound to workspace ${workspace} yet, so its members have nowhere to push.`),
    h(
      "p",
      {},
      "A platform admin binds a space to the workspace (Admin → Spaces → Bindings, or ",
      h("code", {}, `berth bind add <space> ${workspace}`),
      "); then the workspace's editors and admins can push there.",
    ),
  );
}

// A labelled select of space names; `id` keeps labels unique when two dialogs share a page.
export function spaceField(id, names, onchange) {
  const select = h("select", { id, name: "space", onchange }, names.map((name) => h("option", { value: name }, name)));
  return [h("div", { class: "field" }, h("label", { for: id }, "Space"), select), select];
}

export default async function push(ctx) {
  useStyles("dialogs");
  const cleanup = [];
  await openDialog("Push an image", () => pushBody(ctx, cleanup), { wide: true });
  for (const fn of cleanup) fn();
}

// The API's notes mark names and commands with backticks, as Markdown does; they show as code.
function noteParts(note) {
  return note.split("`").map((part, i) => (i % 2 === 1 ? h("code", {}, part) : part));
}

function pushBody(ctx, cleanup) {
  const { workspace } = ctx;
  const root = h("div", { class: "push" }, loadingState("Loading the workspace's spaces…"));
  if (!workspace) {
    return mount(root, emptyState("No workspace", h("p", {}, "Join a workspace first: a platform admin adds you to one.")));
  }
  const load = async () => {
    mount(root, loadingState("Loading the workspace's spaces…"));
    try {
      const names = await hostedSpaces(workspace);
      if (names.length === 0) mount(root, noSpaces(workspace));
      else form(ctx, root, names, cleanup);
    } catch (error) {
      mount(root, errorState(error, load));
    }
  };
  load();
  return root;
}

function form(ctx, root, names, cleanup) {
  const { workspace, me } = ctx;
  const role = me?.workspaces?.find((w) => w.name === workspace)?.role;
  const mayPublish = me?.is_admin || role === "admin" || role === "editor";
  let answer = null;
  // The temporary login, kept only while the dialog is open: its login line per client, its
  // note and who it is. It works for the space it was made for, so changing space drops it.
  let temporary = null;
  // Typing asks for fresh lines; only the newest of those requests may draw. The temporary
  // login has a request of its own that no refresh cancels: the server creates the robot
  // whether or not the answer is awaited, so dropping that answer would lose a login made.
  const refreshes = latestRequest();
  const temporaries = latestRequest();
  let refreshCount = 0; // refreshes started, to tell whether one is newer than a temporary login
  let refreshing = false; // the newest refresh is still on its way
  let plain = null; // the newest answer a refresh brought, without a temporary login
  let closed = false;
  let selected = CLIENTS.includes(localStorage.getItem(LAST_CLIENT)) ? localStorage.getItem(LAST_CLIENT) : "docker";

  const [spaceBlock, space] = spaceField("push-space", names, () => {
    temporary = null;
    refresh();
  });
  const repository = h("input", { id: "push-repository", name: "repository", value: "my-image", autocomplete: "off", spellcheck: "false", "aria-describedby": "push-repository-hint", oninput: debounce(() => refresh(), 250) });
  const tag = h("input", { id: "push-tag", name: "tag", value: "latest", autocomplete: "off", spellcheck: "false", oninput: debounce(() => refresh(), 250) });
  const alert = h("div", { class: "dialog-alert", role: "alert" });
  const loginInfo = h("div", { class: "login-info" });
  const notes = h("ul", { class: "notes" });

  const tabs = CLIENTS.map((client) =>
    h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `push-tab-${client}`,
        "aria-controls": `push-panel-${client}`,
        onclick: () => select(client, false),
        onkeydown: (event) => onTabKey(event, client),
      },
      client,
    ),
  );
  const panels = CLIENTS.map((client) =>
    h("div", { role: "tabpanel", id: `push-panel-${client}`, "aria-labelledby": `push-tab-${client}`, class: "panel" }),
  );
  const panelBox = h("div", { class: "panels" }, panels);

  function select(client, focus) {
    selected = client;
    localStorage.setItem(LAST_CLIENT, client);
    CLIENTS.forEach((name, i) => {
      const on = name === client;
      tabs[i].setAttribute("aria-selected", String(on));
      tabs[i].tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
    });
    if (focus) tabs[CLIENTS.indexOf(client)].focus();
  }

  // The WAI-ARIA tabs pattern: arrows move between tabs (wrapping), Home and End jump.
  function onTabKey(event, client) {
    const i = CLIENTS.indexOf(client);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: CLIENTS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(CLIENTS[(next + CLIENTS.length) % CLIENTS.length], true);
  }

  const generate = h(
    "button",
    { type: "button", id: "push-temporary", "aria-describedby": "push-temporary-hint", onclick: () => makeTemporary() },
    "Generate temporary login",
  );
  const generateHint = h(
    "p",
    { id: "push-temporary-hint", class: "hint" },
    mayPublish
      ? "Puts the secret of a robot that may push to this space only, for one hour, into the lines: for a CI job or a machine where you do not want your own password."
      : "Temporary logins are for the workspace's editors and admins; ask one of them, or use your own login.",
  );

  mount(
    root,
    h(
      "form",
      { class: "push-fields", onsubmit: (event) => { event.preventDefault(); refresh(); } },
      spaceBlock,
      h(
        "div",
        { class: "field grow" },
        h("label", { for: "push-repository" }, "Repository"),
        repository,
        h("span", { id: "push-repository-hint", class: "hint" }, "Path inside the space, e.g. app or tools/app."),
      ),
      h("div", { class: "field" }, h("label", { for: "push-tag" }, "Tag"), tag),
    ),
    alert,
    h("div", { class: "tabs", role: "tablist", "aria-label": "Client" }, tabs),
    panelBox,
    h("div", { class: "login-row" }, loginInfo, h("div", { class: "login-action" }, generate, generateHint)),
    h("h3", { class: "notes-title" }, "Before you run them"),
    notes,
  );
  select(selected, false);

  // Keeps "Expires in 52 minutes" true while the dialog stays open.
  const timer = setInterval(() => {
    if (temporary && answer) drawLogin();
  }, 30000);
  cleanup.push(() => {
    clearInterval(timer);
    // An answer still on its way must not bring the secret back into memory.
    closed = true;
    temporary = null;
  });

  function pushCommand(params, signal) {
    return api(
      `/workspaces/${seg(workspace)}/registries/hosted/spaces/${seg(space.value)}/push-command${query(params)}`,
      { signal },
    );
  }

  function show(fresh) {
    answer = withTemporary(fresh);
    mount(alert);
    draw();
  }

  // The lines for the fields as they are now; a newer refresh cancels this one.
  async function refresh() {
    const signal = refreshes.next();
    refreshCount += 1;
    refreshing = true;
    panelBox.setAttribute("aria-busy", "true");
    try {
      const fresh = await pushCommand({ repository: repository.value.trim(), tag: tag.value.trim() }, signal);
      if (closed || !refreshes.isLatest(signal)) return;
      plain = fresh;
      show(fresh);
    } catch (error) {
      if (error.name === "AbortError" || closed || !refreshes.isLatest(signal)) return;
      mount(alert, h("p", {}, error.message));
    } finally {
      if (refreshes.isLatest(signal)) {
        refreshing = false;
        panelBox.removeAttribute("aria-busy");
      }
    }
  }

  // Makes the temporary robot. The button stays disabled meanwhile, so one is made at a time.
  async function makeTemporary() {
    const signal = temporaries.next();
    const forSpace = space.value;
    const startedAfter = refreshCount;
    generate.disabled = true;
    try {
      const params = { repository: repository.value.trim(), tag: tag.value.trim(), temporary: "true" };
      const fresh = await pushCommand(params, signal);
      // The login works only for the space it was made for; the user has moved on from that one.
      if (closed || !temporaries.isLatest(signal) || space.value !== forSpace) return;
      temporary = {
        space: fresh.space,
        login: fresh.login,
        lines: Object.fromEntries(CLIENTS.map((client) => [client, fresh.commands[client][0]])),
        // The API puts one note about the temporary login first; the rest are about the
        // target, and an answer without a temporary login ends with the same number of them.
        note: fresh.notes[0],
        targetNotes: fresh.notes.length - 1,
      };
      if (refreshCount === startedAfter) {
        show(fresh);
      } else if (!refreshing) {
        // The fields changed while the robot was made: the lines shown (from the newest answer
        // a refresh brought) get this login; an error the newest refresh met stays in view.
        // A refresh still on its way puts the login in itself when it arrives.
        answer = withTemporary(plain || fresh);
        draw();
      }
    } catch (error) {
      if (error.name === "AbortError" || closed || !temporaries.isLatest(signal)) return;
      mount(alert, h("p", {}, error.message));
    } finally {
      if (temporaries.isLatest(signal)) generate.disabled = false;
    }
  }

  // An answer without a temporary login, given the temporary one made earlier in this space:
  // the first line of each client is its login line.
  function withTemporary(fresh) {
    if (!temporary || temporary.space !== fresh.space || fresh.login.temporary) return fresh;
    const commands = {};
    for (const client of CLIENTS) {
      commands[client] = fresh.commands[client].map((line, i) => (i === 0 ? temporary.lines[client] : line));
    }
    const targetNotes = fresh.notes.slice(Math.max(0, fresh.notes.length - temporary.targetNotes));
    return { ...fresh, commands, login: temporary.login, notes: [temporary.note, ...targetNotes] };
  }

  function draw() {
    CLIENTS.forEach((client, i) => {
      const text = answer.commands[client].join("\n");
      mount(panels[i], h("pre", {}, h("code", {}, text)), h("div", { class: "panel-actions" }, copyButton(text, "commands")));
    });
    drawLogin();
    mount(notes, answer.notes.map((note) => h("li", {}, noteParts(note))));
  }

  function drawLogin() {
    const login = answer.login;
    if (!login.temporary) {
      mount(loginInfo, h("p", {}, "The login lines sign in as ", h("code", {}, login.username), " and ask for its password."));
      return;
    }
    const expired = new Date(login.expires_at).getTime() <= Date.now();
    mount(
      loginInfo,
      h("p", {}, "Temporary login ", h("code", {}, login.username), ", limited to space ", h("code", {}, answer.space), "."),
      h(
        "p",
        { class: expired ? "expires expired" : "expires" },
        expired ? "Expired " : "Expires ",
        h("time", { datetime: login.expires_at, title: exactTime(login.expires_at) }, relativeTime(login.expires_at)),
      ),
      h(
        "p",
        { class: "hint" },
        expired
          ? "Generate a new one to push again."
          : "Its secret is shown only now and forgotten when this dialog closes: copy the lines first.",
      ),
    );
  }

  refresh();
}
