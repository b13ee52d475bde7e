// Registries (platform admins): `hosted` plus the external registries every workspace may see
// through public or bound spaces, with their health and sync state, checked and synced on
// demand.

import registryList from "./registry-list.js";

export default async function registries(ctx) {
  await registryList(ctx, {
    base: "/registries",
    title: "Registries",
    intro: "Registries of the whole platform. hosted is Berth's own registry; the others are synced into the image list, checked for health and their spaces shared through bindings.",
    owner: "the workspaces their spaces are bound to",
  });
}
