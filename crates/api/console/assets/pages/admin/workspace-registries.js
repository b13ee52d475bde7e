// Workspace registries: registries one workspace connects for itself. Only that workspace sees
// them; its admins manage them.

import { seg } from "../../api.js";
import registryList from "./registry-list.js";

export default async function workspaceRegistries(ctx) {
  const { workspace } = ctx;
  document.title = `Workspace registries · ${workspace} · Admin · Berth`;
  await registryList(ctx, {
    base: `/workspaces/${seg(workspace)}/registries`,
    title: `Registries of ${workspace}`,
    intro: `Registries that only workspace ${workspace} sees. Every space in them is visible to its members.`,
    owner: workspace,
  });
}
