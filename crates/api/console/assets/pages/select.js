// The image selector: `/select?workspace=<ws>[&embed=1][&origin=<opener origin>][&q=<search>]`.
// A deployment form opens it with window.open(); the user searches, picks a tag, and the page
// hands the references (and, when the user agrees, a pull secret) back with postMessage.
//
// Messages go to `window.opener` (or, when the page is framed, to the parent):
//   {type: "berth:selector-ready"} on load,
//   {type: "berth:image-selected", workspace, registry, repository, tag, digest, reference,
//    pinned, platforms, needs_pull_secret, pull_secret} on "Use this image",
//   {type: "berth:selector-cancelled"} on "Cancel".
// The target origin is `?origin=`; without it messages go to "*" and never carry the pull
// secret. Any site can open this page naming its own origin, so naming one is not enough
// either: the secret goes along only when the user ticks "Send the pull secret to <origin>",
// which shows that origin, and is null otherwise.

import { api, seg, query, latestRequest } from "../api.js";
import { link, imageHref } from "../app.js";
import {
  h, mount, humanSize, timeAgo, shortDigest, platformText, copyButton, toast, errorState, emptyState,
  debounce, useStyles, noWorkspaceState,
} from "../ui.js";

export default async function selector(ctx) {
  const { main, workspace, search } = ctx;
  useStyles("select");
  document.title = "Select an image · Berth";
  const embedded = search.get("embed") === "1";
  main.classList.add("selector-page");
  if (embedded) main.classList.add("embedded");
  if (!workspace) {
    mount(main, noWorkspaceState(ctx.me));
    return;
  }

  const target = messageTarget(search.get("origin"));
  const opener = () => {
    if (window.opener && !window.opener.closed) return window.opener;
    return window.parent !== window ? window.parent : null;
  };
  const post = (message) => {
    const to = opener();
    if (!to) return false;
    to.postMessage(message, target.origin);
    return true;
  };

  let picked = null;
  let secret = null; // The last pull secret made here; only in memory, never stored.
  let secretUrl = null;
  // The namespace and name typed for the pull secret survive picking another image.
  const secretFields = { namespace: "default", name: "berth-pull" };
  // Whether the user agreed to hand the pull secret to the named origin; unticked until they do.
  let consent = false;
  const searches = latestRequest();

  const wanted = search.get("workspace");
  const searchInput = h("input", {
    id: "select-search",
    type: "search",
    "aria-label": "Search images",
    placeholder: "Search images: app, or app:1.2",
    autocomplete: "off",
    spellcheck: "false",
    value: search.get("q") || "",
    "aria-describedby": "select-search-hint",
    "aria-controls": "select-results",
    oninput: debounce(() => load(), 120),
    onkeydown: (event) => {
      if (event.key === "ArrowDown") {
        const first = results.querySelector("button.result");
        if (first) {
          event.preventDefault();
          first.focus();
        }
      }
    },
  });
  const status = h("p", { class: "list-status", role: "status", "aria-live": "polite" });
  const results = h("ul", { id: "select-results", class: "results", "aria-label": "Images", onkeydown: moveInList });
  const detail = h("section", { class: "picked card", "aria-labelledby": "picked-title" });
  const noOpener = !opener();

  mount(
    main,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Select an image"),
      h("p", { class: "muted" }, `Workspace ${workspace}. Pick a tag: its references, and a pull secret when needed, go back to the form that opened this page.`),
    ),
    wanted && wanted !== workspace
      ? h("p", { class: "notice", role: "note" }, `You are not a member of workspace ${wanted}, so this shows workspace ${workspace}.`)
      : null,
    target.problem ? h("p", { class: "notice", role: "note" }, target.problem) : null,
    h(
      "div",
      { class: "select-layout" },
      h(
        "div",
        { class: "select-list" },
        searchInput,
        h("p", { id: "select-search-hint", class: "hint" }, "Type part of a repository name; add :tag to narrow the tags."),
        status,
        results,
      ),
      detail,
    ),
  );
  drawDetail();
  post({ type: "berth:selector-ready" });

  // Up and down move between results; the search field is above the first one.
  function moveInList(event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const buttons = [...results.querySelectorAll("button.result")];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    event.preventDefault();
    if (event.key === "ArrowUp" && i === 0) searchInput.focus();
    else buttons[Math.min(buttons.length - 1, Math.max(0, i + (event.key === "ArrowDown" ? 1 : -1)))].focus();
  }

  async function load() {
    const signal = searches.next();
    results.setAttribute("aria-busy", "true");
    const q = searchInput.value.trim();
    try {
      const answer = await api(`/workspaces/${seg(workspace)}/selector${query({ q, limit: 30 })}`, { signal });
      if (!searches.isLatest(signal) || !ctx.isCurrent()) return;
      drawResults(answer.items, q);
    } catch (error) {
      if (error.name === "AbortError" || !searches.isLatest(signal)) return;
      status.textContent = "";
      mount(results, h("li", {}, errorState(error, load)));
    } finally {
      if (searches.isLatest(signal)) results.removeAttribute("aria-busy");
    }
  }

  function drawResults(items, q) {
    status.textContent = items.length === 1 ? "1 image" : `${items.length} images`;
    if (items.length === 0) {
      mount(
        results,
        h(
          "li",
          {},
          q
            ? emptyState(`No image matches “${q}”`, h("p", {}, "Try a shorter part of the repository name, or drop the :tag part."))
            : emptyState(
                "No images yet",
                h("p", {}, `Workspace ${workspace} sees no images yet. Push one first: `, h("a", { href: link("/images", {}, workspace), target: embedded ? "_blank" : null }, "the image list"), " shows how."),
              ),
        ),
      );
      return;
    }
    mount(results, items.map((item, i) => h("li", {}, resultButton(item, i))));
  }

  function resultButton(item, i) {
    const name = `${item.repository}:${item.tag}`;
    const platforms = (item.platforms || []).map(platformText).filter(Boolean).join(", ");
    return h(
      "button",
      {
        type: "button",
        class: "result",
        "aria-label": name,
        "aria-describedby": `result-meta-${i}`,
        "aria-pressed": String(isPicked(item)),
        onclick: (event) => pick(item, event.currentTarget),
      },
      h("span", { class: "result-name" }, item.repository, h("span", { class: "result-tag" }, `:${item.tag}`)),
      h(
        "span",
        { class: "result-meta", id: `result-meta-${i}` },
        h("span", {}, platforms || "no platform"),
        h("span", {}, "pushed ", timeAgo(item.pushed_at, "unknown")),
        h("span", {}, humanSize(item.size)),
        item.needs_pull_secret ? h("span", { class: "badge badge-private", title: "Pulling needs credentials: create a pull secret" }, "needs pull secret") : null,
      ),
    );
  }

  function isPicked(item) {
    return Boolean(picked && picked.registry === item.registry && picked.repository === item.repository && picked.tag === item.tag);
  }

  function pick(item, button) {
    picked = item;
    for (const other of results.querySelectorAll("button.result")) other.setAttribute("aria-pressed", String(other === button));
    drawDetail();
    // Keyboard and screen reader users land on what they picked; on a phone it scrolls there.
    detail.querySelector("#picked-title").focus();
  }

  function drawDetail() {
    const use = h(
      "button",
      { type: "button", class: "primary", disabled: !picked || noOpener, "aria-describedby": "use-hint", onclick: useImage },
      "Use this image",
    );
    const cancel = h("button", { type: "button", disabled: noOpener, "aria-describedby": "use-hint", onclick: cancelled }, "Cancel");
    const actions = h("div", { class: "picked-actions" }, h("div", { class: "actions" }, use, cancel), h("p", { id: "use-hint", class: "hint" }, useHint()));
    if (!picked) {
      mount(
        detail,
        h("h2", { id: "picked-title", tabindex: "-1" }, "No image picked"),
        h("p", { class: "muted" }, "Pick a tag from the list to see its references and whether it needs a pull secret."),
        actions,
      );
      return;
    }
    const name = `${picked.repository}:${picked.tag}`;
    const detailHref = imageHref(workspace, picked.registry, picked.repository);
    const platforms = (picked.platforms || []).map(platformText).filter(Boolean).join(", ");
    mount(
      detail,
      h("h2", { id: "picked-title", tabindex: "-1" }, name),
      h(
        "dl",
        { class: "picked-facts" },
        h("dt", {}, "By tag"),
        h("dd", {}, h("code", { class: "reference" }, picked.reference), copyButton(picked.reference, "reference")),
        h("dt", {}, "Pinned by digest"),
        h("dd", {}, h("code", { class: "pinned" }, picked.pinned), copyButton(picked.pinned, "pinned reference")),
        h("dt", {}, "Digest"),
        h("dd", {}, h("code", { title: picked.digest }, shortDigest(picked.digest))),
        h("dt", {}, "Platforms"),
        h("dd", {}, platforms || "none (not an image, or no platform recorded)"),
        h("dt", {}, "Pushed"),
        h("dd", {}, timeAgo(picked.pushed_at, "unknown"), ` · ${humanSize(picked.size)}`),
      ),
      h("p", {}, h("a", { href: detailHref, target: "_blank", rel: "noopener" }, `Details of ${picked.repository}`), h("span", { class: "muted" }, " (opens in a new tab)")),
      picked.needs_pull_secret
        ? pullSecretSection()
        : h("p", { class: "muted" }, "Pulling this image needs no credentials: it is in a public space that anyone may pull."),
      actions,
    );
  }

  function pullSecretSection() {
    const field = (key) =>
      h("input", { id: `secret-${key}`, value: secretFields[key], autocomplete: "off", spellcheck: "false", oninput: (event) => { secretFields[key] = event.target.value; } });
    const namespace = field("namespace");
    const name = field("name");
    const alert = h("div", { class: "dialog-alert", role: "alert" });
    const output = h("div", { class: "secret-output" });
    const create = h("button", { type: "submit" }, "Create pull secret");
    const section = h(
      "section",
      { class: "pull-secret", "aria-labelledby": "pull-secret-title" },
      h("h3", { id: "pull-secret-title" }, "Pull secret"),
      h("p", { class: "hint" }, `This image is private: a cluster needs credentials to pull it. The Secret holds a pull-only robot of workspace ${workspace}; making it again for the same namespace and name replaces the previous one's credentials.`),
      h(
        "form",
        {
          class: "secret-form",
          onsubmit: async (event) => {
            event.preventDefault();
            mount(alert);
            create.disabled = true;
            try {
              const body = { namespace: namespace.value.trim(), name: name.value.trim() };
              secret = await api(`/workspaces/${seg(workspace)}/pull-secret`, { method: "POST", body });
              drawSecret(output);
              refreshUseHint();
              toast(`Pull secret ${body.name} created`);
            } catch (error) {
              mount(alert, h("p", {}, error.message));
            } finally {
              create.disabled = false;
            }
          },
        },
        h("div", { class: "field" }, h("label", { for: "secret-namespace" }, "Namespace"), namespace),
        h("div", { class: "field" }, h("label", { for: "secret-name" }, "Name"), name),
        h("div", { class: "field field-button" }, create),
      ),
      alert,
      target.origin === "*" ? null : consentField(),
      output,
    );
    if (secret) drawSecret(output);
    return section;
  }

  // The user's explicit yes to hand the secret to the origin that opened this page: any site
  // can name itself in `?origin=`, so the origin is spelled out next to the box.
  function consentField() {
    const box = h("input", {
      type: "checkbox",
      id: "secret-consent",
      checked: consent,
      "aria-describedby": "secret-consent-hint",
      onchange: (event) => {
        consent = event.target.checked;
        refreshUseHint();
      },
    });
    return h(
      "div",
      { class: "secret-consent" },
      h("div", { class: "consent-line" }, box, h("label", { for: "secret-consent" }, "Send the pull secret to ", h("strong", { class: "consent-origin" }, target.origin))),
      h(
        "p",
        { id: "secret-consent-hint", class: "hint" },
        `Tick this only if you trust ${target.origin} and opened this page from it: the Secret holds credentials that pull workspace ${workspace}'s private images. Unticked, “Use this image” sends the references only.`,
      ),
    );
  }

  // The secret goes with "Use this image" only to a named origin, for an image that needs it
  // (the box shows with every such image), and only while the box is ticked.
  function secretToSend() {
    return target.origin !== "*" && consent && picked?.needs_pull_secret && secret ? secret : null;
  }

  function useHint() {
    if (noOpener) return "No form opened this page, so there is nothing to hand the image to: copy the references instead.";
    if (!picked) return "Pick an image first.";
    if (target.origin === "*") return "Hands this image back to the form.";
    if (secretToSend()) return `Hands this image and the pull secret back to the form at ${target.origin}.`;
    if (secret && picked.needs_pull_secret) {
      return `Hands this image back to the form at ${target.origin}, without the pull secret unless you tick “Send the pull secret to ${target.origin}” above.`;
    }
    return `Hands this image back to the form at ${target.origin}.`;
  }

  function refreshUseHint() {
    const hint = detail.querySelector("#use-hint");
    if (hint) hint.textContent = useHint();
  }

  function drawSecret(output) {
    const yaml = toYaml(secret);
    const file = `${secret.metadata.name}.yaml`;
    // One download link at a time; the previous Blob URL is released.
    if (secretUrl) URL.revokeObjectURL(secretUrl);
    secretUrl = URL.createObjectURL(new Blob([yaml], { type: "application/yaml" }));
    mount(
      output,
      h("pre", { class: "secret-yaml" }, h("code", {}, yaml)),
      h(
        "div",
        { class: "actions" },
        copyButton(yaml, "pull secret"),
        h("a", { class: "button", href: secretUrl, download: file }, `Download ${file}`),
      ),
      h("p", { class: "hint" }, "Apply it with ", h("code", {}, `kubectl apply -f ${file}`), " and name it under imagePullSecrets in the pod spec."),
      target.origin === "*"
        ? h("p", { class: "hint" }, "The form did not name a valid origin, so “Use this image” never sends the secret: copy or download it.")
        : null,
    );
  }

  function useImage() {
    if (!picked) return;
    const sent = post({
      type: "berth:image-selected",
      workspace,
      registry: picked.registry,
      repository: picked.repository,
      tag: picked.tag,
      digest: picked.digest,
      reference: picked.reference,
      pinned: picked.pinned,
      platforms: picked.platforms,
      needs_pull_secret: picked.needs_pull_secret,
      pull_secret: secretToSend(),
    });
    toast(sent ? `Sent ${picked.repository}:${picked.tag} to the form` : "The form that opened this page is gone", sent ? "info" : "error");
  }

  function cancelled() {
    post({ type: "berth:selector-cancelled" });
    toast("Told the form you cancelled");
  }

  await load();
}

// `?origin=` as a postMessage target: an origin (scheme, host, port), else "*" with a notice.
function messageTarget(value) {
  if (!value) return { origin: "*", problem: null };
  try {
    const origin = new URL(value).origin;
    if (origin && origin !== "null") return { origin, problem: null };
  } catch {
    // Falls through to the notice below.
  }
  return { origin: "*", problem: `The origin parameter “${value}” is not an origin like https://deploy.example.com, so no pull secret will be sent to the form.` };
}

// The Secret as YAML for kubectl. Its shape is fixed (nested maps of strings), so a small
// writer does; anything not plainly safe is written as a JSON string, which YAML reads too.
function toYaml(value, indent = "") {
  const scalar = (text) => {
    const s = String(text);
    // Plain only when it starts with a letter (so never a number) and is no YAML keyword.
    const plain = /^[A-Za-z][A-Za-z0-9._/+=-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(s);
    return plain ? s : JSON.stringify(s);
  };
  const key = (k) => (/^[A-Za-z0-9._-]+$/.test(k) ? k : JSON.stringify(k));
  const lines = [];
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === "object") {
      lines.push(`${indent}${key(k)}:`);
      lines.push(toYaml(v, `${indent}  `).trimEnd());
    } else {
      lines.push(`${indent}${key(k)}: ${scalar(v)}`);
    }
  }
  return lines.join("\n") + "\n";
}
