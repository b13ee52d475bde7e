// The repository's description: Markdown rendered by the server, and an editor for those
// allowed to edit it.

import { api } from "../../api.js";
import { h, mount, toast } from "../../ui.js";

// Answers {element}. `saved()` runs after a save, because the header shows data from the same
// repository answer.
export function descriptionSection(page, { saved }) {
  const element = h("section", { class: "card repo-description", "aria-labelledby": "description-title" });

  function draw() {
    const repo = page.repo;
    const canEdit = repo.permissions.includes("edit");
    const body = h("div", { class: "markdown" });
    if (repo.description_html) {
      // The only innerHTML in the console: the server rendered the Markdown and sanitised it
      // (ammonia: no raw HTML, no scripts or styles, links only http, https and mailto).
      body.innerHTML = repo.description_html;
      demoteHeadings(body);
    } else if (repo.description) {
      body.append(h("p", { class: "plain-description" }, repo.description));
    } else {
      body.append(h("p", { class: "muted" }, canEdit ? "No description yet. Say what this image is for, how to run it and who looks after it." : "No description yet."));
    }
    const edit = canEdit ? h("button", { type: "button", id: "edit-description", onclick: openEditor }, "Edit description") : null;
    mount(element, h("div", { class: "section-head" }, h("h2", { id: "description-title" }, "Description"), edit), body);
  }

  // Closing the editor, saved or not, puts the focus back on the button that opened it.
  function closeEditor() {
    draw();
    element.querySelector("#edit-description")?.focus();
  }

  function openEditor() {
    const area = h("textarea", { id: "description-input", rows: 12, spellcheck: "true" });
    area.value = page.repo.description;
    const problem = h("p", { class: "form-error", role: "alert", hidden: true });
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const cancel = h("button", { type: "button", onclick: closeEditor }, "Cancel");
    const form = h(
      "form",
      {
        class: "description-form",
        onsubmit: async (event) => {
          event.preventDefault();
          save.disabled = true;
          problem.hidden = true;
          try {
            page.repo = await api(page.base, { method: "PATCH", body: { description: area.value } });
            draw();
            saved();
            toast("Description saved");
            element.querySelector("#edit-description")?.focus();
          } catch (error) {
            problem.textContent = error.message;
            problem.hidden = false;
            save.disabled = false;
          }
        },
        onkeydown: (event) => {
          if (event.key === "Escape") { event.preventDefault(); cancel.click(); }
        },
      },
      h("label", { for: "description-input" }, "Description"),
      h("p", { class: "muted hint", id: "description-hint" }, "Markdown: headings, lists, links, code and tables. Up to 64 KiB."),
      area,
      problem,
      h("div", { class: "actions" }, save, cancel),
    );
    area.setAttribute("aria-describedby", "description-hint");
    mount(element, h("div", { class: "section-head" }, h("h2", { id: "description-title" }, "Description")), form);
    area.focus();
  }

  draw();
  return { element };
}

// The description sits under the page's h1 and the "Description" h2, so its own headings move
// down two levels (`# Title` becomes an h3): one h1 per page, and an outline that makes sense.
function demoteHeadings(root) {
  for (const heading of root.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Math.min(Number(heading.tagName[1]) + 2, 6);
    const replacement = document.createElement(`h${level}`);
    replacement.className = `md-h${heading.tagName[1]}`;
    replacement.append(...heading.childNodes);
    heading.replaceWith(replacement);
  }
}
