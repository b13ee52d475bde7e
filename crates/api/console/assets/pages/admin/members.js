// Members (workspace admins): the current workspace's members and the spaces bound to it.
// Platform admins find the same view under Workspaces.

import workspaceDetail from "./workspace-detail.js";

export default async function members(ctx) {
  await workspaceDetail(ctx, ctx.workspace, { platform: false });
}
